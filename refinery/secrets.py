"""Secret values the process knows, masked out of any text before it is logged, cached or written.

Servers echo keys back (a 401 body quoting the key it rejected), so every error text is passed through
`mask`: the values `register`ed by the backends (their API keys) and those of environment variables
whose names say they hold a secret. The environment is read at each call, so a key set after import
(a test's monkeypatch, a late `export`) is still covered.
"""
from __future__ import annotations

import os
import threading

MASK = "[masked]"
SECRET_ENV_SUFFIXES = ("_API_KEY", "_TOKEN", "_SECRET", "_SECRET_ACCESS_KEY", "PASSWORD")
# shorter values are placeholders ("EMPTY", "test"): masking them would garble ordinary words
MIN_LENGTH = 8

_registered: set[str] = set()
_lock = threading.Lock()


def register(value: str | None) -> None:
    """Remember a secret (an API key handed to a backend) so `mask` removes it from any text."""
    if value and len(value) >= MIN_LENGTH:
        with _lock:
            _registered.add(value)


def known() -> list[str]:
    """Every secret value to mask, longest first (a key that contains another is masked whole)."""
    from_env = {v for k, v in os.environ.items() if k.upper().endswith(SECRET_ENV_SUFFIXES) and len(v) >= MIN_LENGTH}
    with _lock:
        values = _registered | from_env
    return sorted(values, key=len, reverse=True)


def mask(text: str) -> str:
    """`text` with every known secret replaced by [masked]."""
    if not text:
        return text
    for value in known():
        if value in text:
            text = text.replace(value, MASK)
    return text
