"""Compute backends for datatrove pipelines: a runner takes (pipeline, tasks, logging_dir) and returns when
every task is done (optionally a dict describing the job, for the stage's metadata). Local is the default;
`sagemaker_processing` runs a stage as one SageMaker Processing job."""
from refinery.runners.local import _raise_if_incomplete, local_runner

__all__ = ["_raise_if_incomplete", "local_runner"]
