"""Persistent request cache under the storage root: one small JSON file per request hash.

A file per entry (not one big table) so concurrent workers never contend, a run killed half-way keeps
every answer it already paid for, and S3 needs no locking (each PUT is atomic). Terminal failures are
stored too (`error` entries), so a resumed run does not send a request that already failed for good.
"""
from __future__ import annotations

import json
import posixpath

from datatrove.io import DataFolder

from refinery.llm.types import LLMCallError, LLMResponse


class ResponseCache:
    def __init__(self, folder: DataFolder):
        self.folder = folder

    @staticmethod
    def _name(key: str) -> str:
        return posixpath.join(key[:2], f"{key}.json")

    def get(self, key: str) -> LLMResponse | LLMCallError | None:
        name = self._name(key)
        if not self.folder.isfile(name):
            return None
        try:
            with self.folder.open(name, "rt") as f:
                entry = json.load(f)
        except (OSError, ValueError):
            return None  # a torn write from a killed run: treat as a miss, the call is made again
        if "error" in entry:
            err = entry["error"]
            return LLMCallError(err["reason"], err.get("detail", ""), retryable=err.get("retryable", True))
        return LLMResponse.model_validate(entry["response"]).model_copy(update={"cached": True})

    def put(self, key: str, result: LLMResponse | LLMCallError) -> None:
        if isinstance(result, LLMCallError):
            entry = {"error": {"reason": result.reason, "detail": result.detail[:500], "retryable": result.retryable}}
        else:
            entry = {"response": result.model_dump(mode="json", exclude={"cached"})}
        name = self._name(key)
        self.folder.makedirs(posixpath.dirname(name), exist_ok=True)
        tmp = f"{name}.tmp"
        with self.folder.open(tmp, "wt") as f:
            json.dump(entry, f, ensure_ascii=False)
        self.folder.mv(tmp, name)  # atomic on POSIX; on S3 the PUT of `tmp` already was
