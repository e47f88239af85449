"""infra/helm/values.yaml, offline: every key path exists in the dagster/dagster chart's values schema
(tests/data/helm/dagster-values.schema.json, an excerpt of the chart's own file; its source commit is in
it), enum values are allowed ones, and the instance configuration the chart renders from these values is
one the installed Dagster accepts and is the local dagster.yaml's queue, pools and run monitoring."""
import json
import re
from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

REPO = Path(__file__).resolve().parents[2]
VALUES = yaml.safe_load((REPO / "infra" / "helm" / "values.yaml").read_text())
SCHEMA = json.loads((REPO / "tests" / "data" / "helm" / "dagster-values.schema.json").read_text())
LOCAL = yaml.safe_load((REPO / "dagster.yaml").read_text())


def _resolve(node: dict) -> dict:
    while node.get("$ref", "").startswith("#/definitions/"):
        name = node["$ref"].rsplit("/", 1)[1]
        assert name in SCHEMA["definitions"], f"definition {name} is not in the vendored excerpt"
        node = SCHEMA["definitions"][name]
    return node


def _free(node: dict) -> bool:
    """A Kubernetes object (its schema lives on kubernetesjsonschema.dev) or a map the chart passes through."""
    return node.get("$ref", "").startswith("http") or not node.get("properties")


def _check(value, node: dict, path: str, problems: list[str]) -> None:
    node = _resolve(node)
    branches = [_resolve(b) for b in node.get("anyOf", [])] or [node]
    if isinstance(value, dict):
        objects = [b for b in branches if b.get("type") in (None, "object")]
        if not objects:
            problems.append(f"{path}: a mapping where the schema has {[b.get('type') for b in branches]}")
        elif not any(_free(b) for b in objects):
            for key, sub in value.items():
                owner = next((b for b in objects if key in b["properties"]), None)
                if owner is None:
                    problems.append(f"{path}.{key}: not in the chart's schema")
                else:
                    _check(sub, owner["properties"][key], f"{path}.{key}", problems)
    elif isinstance(value, list):
        items = node.get("items") or next((b["items"] for b in branches if "items" in b), None)
        for i, item in enumerate(value):
            if items is not None:
                _check(item, items, f"{path}[{i}]", problems)
    elif "enum" in node and value not in node["enum"]:
        problems.append(f"{path}: {value!r} not one of {node['enum']}")


def test_every_key_path_is_in_the_chart_schema():
    problems: list[str] = []
    _check(VALUES, SCHEMA, "values", problems)
    assert problems == []


def test_the_check_catches_a_misplaced_key_and_a_bad_enum():
    problems: list[str] = []
    bad = {"runLauncher": {"type": "K8sLauncher", "config": {"k8sRunLauncher": {"resource": {}}}}}
    _check(bad, SCHEMA, "values", problems)
    assert problems == [("values.runLauncher.type: 'K8sLauncher' not one of "
                         "['CeleryK8sRunLauncher', 'K8sRunLauncher', 'CustomRunLauncher']"),
                        "values.runLauncher.config.k8sRunLauncher.resource: not in the chart's schema"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _rendered_instance() -> dict:
    """The instance settings the chart's templates make of our values (configmap-instance.yaml and
    helpers/instance/_run-coordinator.tpl: camelCase keys become Dagster's snake_case), plus
    additionalInstanceConfig merged as is."""
    daemon = VALUES["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator = {"module": "dagster.core.run_coordinator", "class": daemon["runCoordinator"]["type"]}
    if queued:
        coordinator["config"] = {_snake(k): v for k, v in queued.items()}
    logs = VALUES["pythonLogs"]
    return {"run_coordinator": coordinator,
            "run_monitoring": {_snake(k): v for k, v in daemon["runMonitoring"].items()},
            "python_logs": {"python_log_level": logs["pythonLogLevel"],
                            "managed_python_loggers": logs["managedPythonLoggers"]},
            "telemetry": {"enabled": VALUES["telemetry"]["enabled"]},
            **VALUES["additionalInstanceConfig"]}


def test_dagster_accepts_the_rendered_instance(tmp_path):
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(_rendered_instance()))
    dagster_instance_config(str(tmp_path))  # raises on an unknown key or conflicting queue settings


def test_dagster_would_refuse_limits_in_both_places(tmp_path):
    """Why the queue's limits sit in additionalInstanceConfig and not in queuedRunCoordinator."""
    rendered = _rendered_instance()
    rendered["run_coordinator"]["config"] = {"max_concurrent_runs": 4}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(rendered))
    with pytest.raises(Exception, match="incompatible with the `concurrency > runs` config"):
        dagster_instance_config(str(tmp_path))


def test_same_queue_pools_and_monitoring_as_the_local_instance():
    rendered = _rendered_instance()
    assert rendered["concurrency"] == LOCAL["concurrency"]
    shared = set(rendered["run_monitoring"]) & set(LOCAL["run_monitoring"])
    assert {"enabled", "start_timeout_seconds"} <= shared
    assert {k: rendered["run_monitoring"][k] for k in shared} == {k: LOCAL["run_monitoring"][k] for k in shared}
    assert rendered["python_logs"] == LOCAL["python_logs"] and rendered["telemetry"] == LOCAL["telemetry"]


def test_code_location_and_run_launcher():
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert VALUES["postgresql"]["enabled"] is False and VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["global"]["postgresqlSecretName"]
    (deployment,) = VALUES["dagster-user-deployments"]["deployments"]
    pyproject = (REPO / "pyproject.toml").read_text()
    module = deployment["codeServerArgs"][deployment["codeServerArgs"].index("-m") + 1]
    assert f'module_name = "{module}"' in pyproject
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True  # run pods get the code server's env


# dagster_k8s.job.USER_DEFINED_K8S_JOB_CONFIG_SCHEMA (dagster-k8s 0.29; the library is not installed here):
# the `dagster-k8s/config` tag's top level
K8S_TAG_SCHEMA = {"container_config", "pod_template_spec_metadata", "pod_spec_config", "job_config", "job_metadata",
                  "job_spec_config", "merge_behavior"}
# a Kubernetes resource.Quantity (apimachinery's regexp, decimal SI and binary suffixes)
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
GIB = {"Mi": 1 / 1024, "Gi": 1, "Ti": 1024}


def _gib(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(Mi|Gi|Ti)", quantity).groups()
    return float(number) * GIB[unit]


def test_every_job_asks_kubernetes_for_its_run_pod_size():
    """What the chart's K8sRunLauncher reads: a `dagster-k8s/config` run tag whose container_config carries
    V1ResourceRequirements (requests/limits of cpu and memory), from orchestration/profiles.py's table."""
    from dagster import Permissive, Shape
    from dagster._config import validate_config

    from orchestration.definitions import build_definitions
    from orchestration.profiles import pod_resources

    defs = build_definitions("local")
    kinds = {"corpus_job": "corpus", "sft_chunks_job": "sft", "sft_dataset_job": "sft", "sft_method_job": "llm",
             "preference_round_job": "llm", "preference_train_job": "train"}
    jobs = {j.name for j in defs.jobs or []}
    assert jobs == set(kinds)  # a new job gets a size here
    schema = Shape({k: Permissive() for k in K8S_TAG_SCHEMA - {"merge_behavior"}})
    for name in jobs:
        tags = defs.resolve_job_def(name).run_tags
        config = json.loads(tags["dagster-k8s/config"])  # dagster-k8s json-decodes the run tag
        assert set(config) <= K8S_TAG_SCHEMA and validate_config(schema, config).success, name
        resources = config["container_config"]["resources"]
        assert set(resources) <= {"requests", "limits"} and set(resources["requests"]) == {"cpu", "memory"}, name
        assert all(QUANTITY.match(q) for part in resources.values() for q in part.values()), resources
        assert _gib(resources["limits"]["memory"]) >= _gib(resources["requests"]["memory"]), name
        assert resources == pod_resources(kinds[name]), name
        assert tags["refinery/flow"]  # the run queue's tag is still there


def test_the_corpus_run_pod_follows_the_runner_and_workers(monkeypatch):
    from orchestration.profiles import pod_resources

    monkeypatch.delenv("REFINERY_RUNNER", raising=False)
    monkeypatch.setenv("REFINERY_WORKERS", "32")  # docs/scaling.md's 100 GB in one pod
    assert pod_resources("corpus", "prod") == {"requests": {"cpu": "32", "memory": "96Gi"}, "limits": {"memory": "96Gi"}}
    monkeypatch.setenv("REFINERY_RUNNER", "ray")  # the pod only coordinates
    assert pod_resources("corpus", "prod") == {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "4Gi"}}
