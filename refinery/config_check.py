"""Everything a run needs to be told before it starts: the YAML configuration (all three sections, whatever
the command), the command-line values and the LLM backend's requirements. One line per problem, so a
mistake costs seconds instead of a failed step and a traceback.

No Dagster here (nor datatrove pipelines, torch, boto3): the CLI calls this before importing any of them,
and the resources (UI, sensors) load their configuration through `load_section`, the same checks.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

Section = Literal["corpus", "sft", "preference"]


class ConfigError(ValueError):
    """One or more configuration problems, each a complete sentence on its own line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def config_problems(path: str | Path | None) -> list[str]:
    """Problems of the YAML file at `path` (None: the defaults, which are valid)."""
    problems, _ = _load_all(path)
    return problems


def load_all(path: str | Path | None) -> dict[Section, BaseModel]:
    """Every validated section, from one read of the file; raises ConfigError naming every problem."""
    problems, loaded = _load_all(path)
    if problems:
        raise ConfigError(problems)
    return loaded


def load_section(path: str | Path | None, section: Section) -> BaseModel:
    """The validated section; raises ConfigError naming every problem of the whole file."""
    return load_all(path)[section]


def run_problems(command: str, *, config: str | None = None, raw: str | None = None, workers: int | None = None,
                 llm: str | None = None, model: str | None = None, llm_base_url: str | None = None,
                 env: dict[str, str] | None = None) -> list[str]:
    """Problems of a `refinery <command>` invocation: the configuration, then the command-line values and the
    environment variables that stand in for them."""
    env = os.environ if env is None else env
    config = config or env.get("REFINERY_CONFIG") or None
    problems, loaded = _load_all(config)
    if command in ("run", "corpus"):
        problems += _corpus_problems(raw or env.get("REFINERY_RAW") or "samples/raw", workers, env)
    if command in ("run", "sft", "preference"):
        problems += _llm_problems(llm or env.get("REFINERY_LLM") or "embedded",
                                  model or env.get("REFINERY_LLM_MODEL"),
                                  llm_base_url or env.get("REFINERY_LLM_BASE_URL"), env)
    if command in ("run", "preference") and config and not problems:
        problems += _source_problems(loaded["preference"], llm or env.get("REFINERY_LLM") or "embedded", env)
    return problems


# --- the YAML file -----------------------------------------------------------------------------------

def _load_all(path: str | Path | None) -> tuple[list[str], dict[str, BaseModel]]:
    # imported here so that `refinery --help` stays instant; these modules are kept free of heavy imports
    from refinery.corpus.config import CorpusConfig
    from refinery.preference.config import PreferenceConfig
    from refinery.sft.config import SFTConfig

    if not path:
        return [], {"corpus": CorpusConfig(), "sft": SFTConfig(), "preference": PreferenceConfig()}
    where = f"config {path}"
    file = Path(path)
    if not file.is_file():
        return [f"{where}: {'is a folder, not a file' if file.is_dir() else 'no such file'}"], {}
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return [f"{where}: not valid YAML{at}: {getattr(e, 'problem', None) or e}"], {}
    except (OSError, UnicodeDecodeError) as e:
        return [f"{where}: cannot be read: {e}"], {}
    if not isinstance(data, dict):
        return [f"{where}: must be a mapping of sections (extract, filters, ..., sft, preference), "
                f"got {type(data).__name__}"], {}
    problems: list[str] = []
    loaded: dict[str, BaseModel] = {}
    corpus_data = {k: v for k, v in data.items() if k not in ("sft", "preference")}
    for section, model, section_data, prefix in (
            ("corpus", CorpusConfig, corpus_data, ""),
            ("sft", SFTConfig, data.get("sft") or {}, "sft."),
            ("preference", PreferenceConfig, data.get("preference") or {}, "preference.")):
        if not isinstance(section_data, dict):
            problems.append(f"{where}: {prefix.rstrip('.')}: must be a mapping, got {type(section_data).__name__}")
            continue
        try:
            loaded[section] = model.model_validate(section_data)
        except ValidationError as e:
            problems += [f"{where}: {prefix}{_location(err['loc'])}: {_describe(err)}" for err in e.errors()]
        except ValueError as e:  # a validator's own check (e.g. an invalid regex) outside pydantic's wrapping
            problems.append(f"{where}: {prefix.rstrip('.') or 'config'}: {e}")
    if "sft" in loaded:
        problems += _sft_method_problems(where, loaded["sft"])
    return problems, loaded


def _sft_method_problems(where: str, sft: Any) -> list[str]:
    from refinery.sft.methods import METHODS

    unknown = [m for m in sft.methods if m not in METHODS]
    return [f"{where}: sft.methods: unknown method {m!r}; known: {', '.join(METHODS)}" for m in unknown]


def _location(loc: tuple) -> str:
    out = ""
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
    return []


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
