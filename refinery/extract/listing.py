"""The files of a raw folder, with the ones that must not be read flagged instead of followed.

On a local root (or a POSIX mount) the raw root is a boundary: a symlink whose target resolves outside it
is never opened (a drop could otherwise pull /etc/passwd into the corpus), a directory link back into its
own ancestry is a loop, a name that is not UTF-8 cannot become a key in JSON outputs, and FIFOs or devices
would block or never end. Each of these is an entry with a `problem` the reader writes to the quarantine
manifest. Object stores have none of these, so their listing is fsspec's own."""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from datatrove.io import DataFolder
from fsspec.implementations.local import LocalFileSystem


@dataclass(frozen=True)
class RawEntry:
    key: str  # relative to the raw folder, "/"-separated; a non-UTF-8 name is backslash-escaped
    size: int = 0
    version: str = ""  # mtime or ETag: what the extract fingerprint keys on
    reason: str | None = None  # set: quarantined unread, with `error` as the manifest's message
    error: str = ""


def list_raw(folder: DataFolder, prefix: str = "") -> list[RawEntry]:
    """Every entry under `prefix`, sorted by key."""
    prefix = prefix.strip("/")
    if isinstance(folder.fs, LocalFileSystem):
        entries = _LocalWalk(folder.path).run(prefix)
    elif not folder.exists(prefix):
        entries = []
    else:
        entries = [
            RawEntry(k, int(info.get("size") or 0), str(info.get("ETag") or info.get("mtime") or info.get("LastModified") or ""))
            for k, info in folder.find(prefix, detail=True).items() if info.get("type") != "directory"
        ]
    return sorted(entries, key=lambda e: e.key)


def _inside(path: bytes, root: bytes) -> bool:
    return path == root or path.startswith(root.rstrip(b"/") + b"/")


class _LocalWalk:
    """Paths are bytes throughout: a name that is not UTF-8 must still be listed (and flagged)."""

    def __init__(self, root: str):
        self.root = os.fsencode(os.path.realpath(root))
        self.entries: list[RawEntry] = []

    def run(self, prefix: str) -> list[RawEntry]:
        start = os.path.join(self.root, os.fsencode(prefix)) if prefix else self.root
        if not os.path.isdir(start):
            return []
        real = os.path.realpath(start)
        if not _inside(real, self.root):  # the drop folder itself links out of the root
            self._problem(prefix, "symlink_outside_root", "the drop folder links outside the raw root")
        else:
            self._visit(real, f"{prefix}/" if prefix else "", {real})
        return self.entries

    def _problem(self, key: str, reason: str, error: str) -> None:
        self.entries.append(RawEntry(key, reason=reason, error=error))

    def _visit(self, real_dir: bytes, key_prefix: str, ancestors: set[bytes]) -> None:
        """`real_dir`: the directory's resolved path; `ancestors`: those of the directories being walked,
        so a link back into one of them is a loop."""
        try:
            listing = list(os.scandir(real_dir))
        except OSError as e:
            self._problem(key_prefix.rstrip("/"), "unreadable_file", f"directory not listable: {e.strerror}")
            return
        for entry in listing:
            try:
                key = key_prefix + entry.name.decode("utf-8")
            except UnicodeDecodeError:  # escaped so the manifest (UTF-8 JSON) can name it; never opened
                key = key_prefix + entry.name.decode("utf-8", "backslashreplace")
                self._problem(key, "undecodable_file_name", "file name is not valid UTF-8")
                continue
            self._entry(entry, key, ancestors)

    def _entry(self, entry: os.DirEntry, key: str, ancestors: set[bytes]) -> None:
        # only links need resolving (realpath costs a syscall per path component)
        real = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
        if not _inside(real, self.root):  # the target is not named in the manifest either
            return self._problem(key, "symlink_outside_root", "symlink to a path outside the raw root")
        try:
            st = entry.stat()  # follows a link (inside the root by now)
        except OSError as e:
            if e.errno == errno.ELOOP:
                return self._problem(key, "symlink_loop", "symlink that resolves to itself")
            return self._problem(key, "unreadable_file", e.strerror or type(e).__name__)
        if stat.S_ISDIR(st.st_mode):
            if real in ancestors:
                return self._problem(key, "symlink_loop", "directory symlink to one of its own parent folders")
            return self._visit(real, key + "/", ancestors | {real})
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the task, a device never ends
            return self._problem(key, "not_a_regular_file", "FIFO, socket or device")
        self.entries.append(RawEntry(key, st.st_size, str(st.st_mtime)))
