"""What the SageMaker Python SDK v3 (`sagemaker-core` resources) needs from us, shared by the processing
runner and the preference trainer. Imported lazily: the SDK takes seconds to import."""
from __future__ import annotations

from typing import Any


def sdk_session(region: str | None, endpoint: str | None):
    """A boto3 session for the SDK's resources, which take a session and a region but no endpoint: an endpoint
    override (VPC endpoint; moto in tests) goes into the session's SageMaker clients."""
    import boto3

    class EndpointSession(boto3.Session):
        def client(self, service_name, *args, **kwargs):
            if service_name == "sagemaker" and endpoint:
                kwargs.setdefault("endpoint_url", endpoint)
            return super().client(service_name, *args, **kwargs)

    session = EndpointSession(region_name=region)
    if not session.region_name:
        raise ValueError("SageMaker needs a region: set it in the settings or AWS_REGION/AWS_DEFAULT_REGION")
    return session


def value(field: Any, default: Any = None) -> Any:
    """A resource's optional field: the SDK marks one the API did not return as `Unassigned`."""
    from sagemaker.core.utils.utils import Unassigned

    return default if field is None or isinstance(field, Unassigned) else field
