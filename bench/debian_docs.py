"""Debian documentation packages as benchmark sources: fetched with `apt-get download` (nothing is
installed) and unpacked with `dpkg-deb -x`, each once per cache folder."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def unpack(pkg: str, cache: Path) -> tuple[Path, Path]:
    """(the package's unpacked tree `cache/pkgs/<pkg>`, its .deb in `cache/debs`)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{pkg}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True, capture_output=True)
        found = sorted(debs.glob(f"{pkg}_*.deb"))
    root = cache / "pkgs" / pkg
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)  # a half-unpacked tree from a killed run
        root.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], check=True)
        (root / ".done").touch()
    return root, found[-1]
