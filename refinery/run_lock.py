"""Who is running what: the process identity a run records (pid, host, process start time), whether that
process still lives, and a lock file per storage root and flow (a corpus drop, the SFT flow, the preference
loop) so two runs never write the same outputs side by side.

A lock dies with its owner: one whose process is gone from this host is stale and taken over. On another
host liveness cannot be told; the message names the holder so a person can decide.
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

log = logging.getLogger(__name__)


def process_start(pid: int) -> str:
    """The kernel's start time of `pid` (Linux), "" elsewhere: a pid reused by a new process differs in it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]  # field 22, after the parenthesised command
    except (OSError, IndexError):
        return ""


def alive(pid: int, host: str, started: str = "") -> bool | None:
    """True/False for a process of this host; None (unknown) for one of another host."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    now = process_start(pid) if started else ""
    return not now or now == started


@dataclass
class Owner:
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    started: str = field(default_factory=lambda: process_start(os.getpid()))
    since: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    command: str = ""
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # the Dagster run this lock is taken for

    def alive(self) -> bool | None:
        return alive(self.pid, self.host, self.started)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.since} ({self.command}, run {self.run_id[:8]})"


def _owner(raw: bytes) -> Owner | None:
    """A lock file's owner; None when the file is not one (torn or edited by hand)."""
    try:
        return Owner(**json.loads(raw))
    except (ValueError, TypeError):
        return None


class LockHeld(RuntimeError):
    pass


class RunLock:
    """`<folder>/_state/run.lock`, created atomically (O_EXCL locally, best effort on S3)."""

    def __init__(self, folder_uri: str, owner: Owner, endpoint_url: str | None = None):
        self.uri = posixpath.join(folder_uri.rstrip("/"), "_state", "run.lock")
        self.owner, self.endpoint_url = owner, endpoint_url
        self.local = "://" not in self.uri
        self.held = False

    def acquire(self) -> None:
        for _ in range(3):  # a stale lock taken over by someone else in between: look again
            if self._create():
                self.held = True
                return
            holder = self._read()
            if holder is None:
                continue  # released between our attempt and our read
            state = holder.alive()
            if state is not False:
                raise LockHeld(f"{posixpath.dirname(posixpath.dirname(self.uri))} is in use by another run: "
                               f"{holder.describe()}. Wait for it to finish"
                               + ("" if state else f", or delete {self.uri} if that process is gone") + ".")
            log.warning("taking over the lock of a run that is gone (%s): %s", holder.describe(), self.uri)
            self._remove_stale(holder)
        raise LockHeld(f"could not take {self.uri}: other runs keep taking it")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        holder = self._read()
        if holder and (holder.pid, holder.host, holder.run_id) == (self.owner.pid, self.owner.host,
                                                                   self.owner.run_id):
            self._unlink(self.uri)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # --- storage ------------------------------------------------------------------------------------
    def _payload(self) -> bytes:
        return json.dumps(asdict(self.owner), indent=2).encode()

    def _create(self) -> bool:
        if self.local:
            # written aside, then linked into place: the lock appears atomically and never half-written
            os.makedirs(os.path.dirname(self.uri), exist_ok=True)
            draft = f"{self.uri}.new-{os.getpid()}"
            with open(draft, "wb") as f:
                f.write(self._payload())
            try:
                os.link(draft, self.uri)
                return True
            except FileExistsError:
                return False
            finally:
                os.unlink(draft)
        # S3 has no portable create-if-absent through fsspec: look, write, read back (a lost race shows as
        # another owner in the file, and the loser backs off)
        fs, path = self._fs()
        if fs.exists(path):
            return False
        with fs.open(path, "wb") as f:
            f.write(self._payload())
        time.sleep(0.2)
        holder = self._read()
        return holder is not None and holder.run_id == self.owner.run_id

    def _read(self) -> Owner | None:
        try:
            if self.local:
                with open(self.uri, "rb") as f:
                    raw = f.read()
            else:
                fs, path = self._fs()
                with fs.open(path, "rb") as f:
                    raw = f.read()
        except FileNotFoundError:
            return None
        return _owner(raw) or Owner(pid=0, host="?", started="", since="?", command="unreadable lock file",
                                    run_id="?")

    def _remove_stale(self, stale: Owner) -> None:
        """Moves the stale file aside first, so of two runs taking over at once only one removes it; if what it
        moved turns out to be a fresh lock (the other run's), that one is put back."""
        if not self.local:
            self._unlink(self.uri)
            return
        aside = f"{self.uri}.stale-{os.getpid()}"
        try:
            os.rename(self.uri, aside)
        except FileNotFoundError:
            return
        try:
            with open(aside, "rb") as f:
                owner = _owner(f.read())
        except OSError:
            owner = None
        if owner is not None and owner.run_id != stale.run_id:
            try:
                os.link(aside, self.uri)  # fails if a third run took the lock meanwhile: it is theirs then
            except FileExistsError:
                pass
        os.unlink(aside)

    def _unlink(self, uri: str) -> None:
        if self.local:
            try:
                os.unlink(uri)
            except FileNotFoundError:
                pass
            return
        fs, path = self._fs()
        if fs.exists(path):
            fs.rm(path)

    def _fs(self):
        import fsspec

        from refinery.storage import storage_options

        fs, path = fsspec.core.url_to_fs(self.uri, **storage_options(self.uri, self.endpoint_url))
        return fs, path
