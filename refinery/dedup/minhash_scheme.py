"""Which MinHash signature scheme each drop's index files were written with, so that signatures of two schemes
are never compared (they would match nothing, and old drops would silently stop deduplicating new ones).

Each drop that writes MinHash index files also writes `schemes/<drop>_minhash.scheme` (named so that
minhash_index_owner() and the dedup stage's fresh start treat it as the drop's own file). A drop with index
files and no scheme file was written before schemes were recorded: datatrove's xxhash64 signatures.
"""
from __future__ import annotations

import posixpath

from datatrove.io import DataFolder

from refinery.dedup.minhash_fast import LEGACY_SCHEME, SCHEME


class MinhashSchemeMismatch(RuntimeError):
    """Earlier drops' MinHash index was written with another signature scheme."""


def scheme_file(drop: str) -> str:
    return f"schemes/{drop}_minhash.scheme"


def write_scheme(index: DataFolder, drop: str) -> None:
    with index.open(scheme_file(drop), "w") as f:
        f.write(SCHEME + "\n")


def index_schemes(index: DataFolder, drops: list[str], owner) -> dict[str, str]:
    """drop -> scheme of its index files, for the drops in `drops` that have any."""
    if not index.exists(""):
        return {}
    owners = {owner(f) for f in index.list_files() if not f.startswith("schemes/")}
    out = {}
    for drop in drops:
        if drop in owners:
            path = scheme_file(drop)
            out[drop] = _read(index, path) if index.exists(path) else LEGACY_SCHEME
    return out


def check_earlier_schemes(index: DataFolder, earlier: list[str], owner) -> None:
    """Refuse to deduplicate against earlier drops whose index holds another scheme's signatures."""
    scheme = SCHEME
    other = {d: s for d, s in index_schemes(index, earlier, owner).items() if s != scheme}
    if other:
        raise MinhashSchemeMismatch(
            f"the MinHash index at {posixpath.join(index.path, '')} holds drops {sorted(other)} with signature "
            f"scheme(s) {sorted(set(other.values()))}, but this version writes '{scheme}'; the two cannot be "
            "compared. Re-run the dedup stage of those drops first, in drop order (a backfill over all drops "
            "does: the scheme is part of the dedup fingerprint, so they are stale), or delete the index "
            "folder and the drops' dedup outputs to rebuild from scratch."
        )


def _read(index: DataFolder, path: str) -> str:
    with index.open(path, "r") as f:
        return f.read().strip()
