"""Which Dagster instance a command uses, and whether it can be reached, decided before any run and before
Dagster is imported: the local one (`dagster.yaml`: SQLite under `.dagster`) or, when REFINERY_DAGSTER_PG_URL
is set, a team instance whose runs, events and schedules live in PostgreSQL (`infra/dagster/dagster.yaml`).
Every problem is one line for the CLI (exit 2)."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
LOCAL_YAML = REPO / "dagster.yaml"
TEAM_YAML = REPO / "infra" / "dagster" / "dagster.yaml"
PG_URL_VAR = "REFINERY_DAGSTER_PG_URL"
PG_TIMEOUT_S = 5  # a server that does not answer in 5 s will not carry a run either


def prepare_home() -> tuple[Path, list[str]]:
    """(DAGSTER_HOME, problems): the home gets the matching dagster.yaml on first use; a PostgreSQL instance
    is connected to once. The default home of the team instance is `.dagster-pg`, so that setting the URL
    never meets a local SQLite `.dagster`."""
    pg = bool(os.environ.get(PG_URL_VAR))
    home = Path(os.environ.get("DAGSTER_HOME") or (".dagster-pg" if pg else ".dagster")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    template = TEAM_YAML if pg else LOCAL_YAML
    if template.is_file() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
    return home, instance_problems(home)


def instance_problems(home: Path) -> list[str]:
    """Problems of the instance in `home`: a PostgreSQL URL that is missing, wrong or unreachable, or a URL
    set for an instance that stores its runs elsewhere (the runs would silently go to SQLite)."""
    config_file = home / "dagster.yaml"
    try:
        config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else None
    except (OSError, yaml.YAMLError) as e:
        return [f"Dagster instance config {config_file}: cannot be read: {' '.join(str(e).split())}"]
    pg = _postgres_config(config or {})
    if pg is None:
        if os.environ.get(PG_URL_VAR):
            return [(f"{PG_URL_VAR} is set but the Dagster instance {config_file} does not store runs in "
                     f"PostgreSQL: copy {TEAM_YAML.relative_to(REPO)} there, or use another DAGSTER_HOME")]
        return []
    try:
        url = pg_url(pg)
    except LookupError as e:
        return [(f"Dagster instance {config_file} stores runs in PostgreSQL but {e} is not set "
                 f"(e.g. {PG_URL_VAR}=postgresql://user:password@host:5432/dagster)")]
    return _reachable(url, config_file)


def _postgres_config(config: dict[str, Any]) -> dict[str, Any] | None:
    """The `postgres_url`/`postgres_db` block of `storage: postgres:` (or of a postgres run storage)."""
    storage = config.get("storage") or {}
    if isinstance(storage.get("postgres"), dict):
        return storage["postgres"]
    run_storage = config.get("run_storage") or {}
    if "postgres" in str(run_storage.get("module", "")):
        return run_storage.get("config") or {}
    return None


def _value(source: Any) -> str:
    """Dagster's StringSource: a value, or {env: NAME} (LookupError(NAME) when that variable is empty)."""
    if isinstance(source, dict) and "env" in source:
        value = os.environ.get(source["env"])
        if not value:
            raise LookupError(source["env"])
        return value
    return str(source)


def pg_url(pg: dict[str, Any]) -> str:
    if "postgres_url" in pg:
        return _value(pg["postgres_url"])
    from urllib.parse import quote

    db = pg.get("postgres_db") or {}
    user, password = quote(_value(db["username"])), quote(_value(db.get("password", "")))
    return (f"{db.get('scheme', 'postgresql')}://{user}{':' + password if password else ''}@"
            f"{_value(db['hostname'])}:{_value(db.get('port', 5432))}/{_value(db['db_name'])}")


def masked(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _reachable(url: str, config_file: Path) -> list[str]:
    import psycopg2  # Dagster's driver (dagster-postgres); imported only for a PostgreSQL instance

    try:  # libpq takes no "+driver" in the scheme (postgresql+psycopg2://, which SQLAlchemy also accepts)
        psycopg2.connect(re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", url), connect_timeout=PG_TIMEOUT_S).close()
    except psycopg2.Error as e:
        reason = " ".join(str(e).split())[:300]
        return [(f"Dagster instance storage {masked(url)} unreachable ({config_file}): {reason}; check "
                 f"{PG_URL_VAR} and that the server runs")]
    return []
