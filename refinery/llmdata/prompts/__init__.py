"""Prompt templates live in YAML files beside this module, one per template, with an explicit
`version`; the sha256 of the file goes into the metadata of everything the template made, so a
dataset says exactly which wording produced it (and an edited template invalidates the cache).

File layout: `version: 3`, `description: ...`, `system: <jinja2>` (optional), `user: <jinja2>`,
optional `prefill: <jinja2>` (the start of the answer).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import Environment, StrictUndefined

PROMPTS_DIR = Path(__file__).parent
_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: int
    hash: str
    system: str | None
    user: str
    prefill: str | None = None

    @property
    def ref(self) -> str:
        """name@vN:hash, what records and metadata carry."""
        return f"{self.name}@v{self.version}:{self.hash}"

    def render(self, **values) -> tuple[str | None, str, str | None]:
        def fill(text):
            return _compiled(text).render(**values).strip() if text else None
        return fill(self.system), fill(self.user), fill(self.prefill)


@lru_cache(maxsize=256)
def _compiled(text: str):
    return _ENV.from_string(text)  # compiling costs ~1 ms; a method renders one template per request


@lru_cache(maxsize=None)
def load_template(name: str, folder: str | None = None) -> PromptTemplate:
    """A template by name from `folder` (a user's override directory) or the bundled prompts."""
    path = Path(folder or PROMPTS_DIR) / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"prompt template {name!r} not found at {path}")
    raw = path.read_bytes()
    spec = yaml.safe_load(raw)
    missing = {"version", "user"} - set(spec)
    if missing:
        raise ValueError(f"prompt template {path} lacks {sorted(missing)}")
    return PromptTemplate(name=name, version=int(spec["version"]), hash=hashlib.sha256(raw).hexdigest()[:12],
                          system=spec.get("system"), user=spec["user"], prefill=spec.get("prefill"))
