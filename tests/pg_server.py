"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, `postgres` on a free loopback port
with its unix socket in that folder, stopped and removed at the end. The binaries come from PATH or Debian's
/usr/lib/postgresql/<version>/bin (scripts/setup.sh installs the `postgresql` package where they are missing).
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user (or `nobody`)."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "refinery"


def find_bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unprivileged() -> dict:
    """Popen arguments that drop root for initdb and postgres (nothing when not root)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    raise RuntimeError("running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL")


class PostgresServer:
    def __init__(self, bin_dir: Path):
        self.bin_dir, self.port = bin_dir, free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="refinery-pg-"))
        self.proc: subprocess.Popen | None = None
        self._as = _unprivileged()
        if self._as:
            os.chown(self.dir, self._as["user"], self._as["group"])

    def _run(self, *cmd: str, **kwargs) -> subprocess.Popen:
        # cwd: the server's user may not be allowed into the test's working directory
        return subprocess.Popen([str(self.bin_dir / cmd[0]), *cmd[1:]], cwd=self.dir, stdin=subprocess.DEVNULL,
                                **self._as, **kwargs)

    def start(self, timeout: float = 60) -> PostgresServer:
        import psycopg2

        init = self._run("initdb", "-D", "data", "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync",
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out, _ = init.communicate(timeout=timeout)
        if init.returncode:
            raise RuntimeError(f"initdb failed: {out[-2000:]}")
        log = open(self.dir / "server.log", "w")  # noqa: SIM115 - the server writes to it until stop()
        # durability off: a test database is thrown away, and fsyncs would cost seconds on a shared disk
        self.proc = self._run("postgres", "-D", "data", "-p", str(self.port), "-k", str(self.dir),
                              "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                              "-c", "full_page_writes=off", stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url("postgres"), connect_timeout=2).close()
                return self
            except psycopg2.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"postgres did not start: {self.log()[-2000:]}") from None
                time.sleep(0.2)

    def url(self, db: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def log(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions, no waiting for clients
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
