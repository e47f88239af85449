"""Persistent request cache under the storage root: one small JSON file per request hash.

A file per entry (not one big table) so concurrent workers never contend, a run killed half-way keeps
every answer it already paid for, and S3 needs no locking (each PUT is atomic). Only terminal outcomes
are stored: answers and terminal failures (`error` entries: a 400, a refusal), so a resumed run does not
send a request that already failed for good. Transient failures (server down, 429, bad key, garbled
reply) are never stored, so the next run sends the request again.
"""
from __future__ import annotations

import json
import posixpath
from typing import TYPE_CHECKING

from refinery.llm.types import TRANSIENT_REASONS, LLMCallError, LLMResponse
from refinery.secrets import mask

if TYPE_CHECKING:
    from datatrove.io import DataFolder  # annotations only: config loading must not import datatrove.io


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
            reason, detail = err["reason"], err.get("detail", "")
            if err.get("retryable", True) or _transient(reason, detail):
                # written by an older version, which cached transient failures (and could hold an echoed
                # key): a miss, and the entry goes so the key does not stay on disk
                self.folder.rm_file(name)
                return None
            return LLMCallError(reason, detail, retryable=False)
        return LLMResponse.model_validate(entry["response"]).model_copy(update={"cached": True})

    def put(self, key: str, result: LLMResponse | LLMCallError) -> None:
        if isinstance(result, LLMCallError):
            if result.retryable:
                return  # transient: the next run must try again
            entry = {"error": {"reason": result.reason, "detail": mask(result.detail)[:500], "retryable": False}}
        else:
            entry = {"response": result.model_dump(mode="json", exclude={"cached"})}
        name = self._name(key)
        self.folder.makedirs(posixpath.dirname(name), exist_ok=True)
        tmp = f"{name}.tmp"
        with self.folder.open(tmp, "wt") as f:
            json.dump(entry, f, ensure_ascii=False)
        self.folder.mv(tmp, name)  # atomic on POSIX; on S3 the PUT of `tmp` already was


def _transient(reason: str, detail: str) -> bool:
    return reason in TRANSIENT_REASONS or (
        reason == "batch_errored" and detail.startswith(("authentication_error", "permission_error")))
