"""Sorted uint64 hash arrays, one file per drop, as the cross-drop index for exact and paragraph dedup.

8 bytes per accepted hash: 10 M paragraphs cost 80 MB, and only the drops before the current one load.
"""
from __future__ import annotations

import io

import numpy as np

from datatrove.io import DataFolder


def sorted_unique(arr: np.ndarray) -> np.ndarray:
    """np.unique's result by sort and neighbour comparison: NumPy 2.4's np.unique took 1.33 CPU-s for 2 M
    uint64 hashes where this takes 0.017 (same array), and a later drop loads every earlier drop's hashes."""
    arr = np.sort(arr)
    return arr[np.concatenate(([True], arr[1:] != arr[:-1]))] if arr.size else arr


def save_hashes(folder: DataFolder, name: str, hashes: set[int] | np.ndarray) -> int:
    arr = sorted_unique(np.fromiter(hashes, dtype=np.uint64, count=len(hashes)) if isinstance(hashes, set)
                        else hashes)
    buf = io.BytesIO()
    np.save(buf, arr)
    with folder.open(f"{name}.npy", "wb") as f:
        f.write(buf.getvalue())
    return int(arr.size)


def load_hashes(folder: DataFolder, names: list[str]) -> np.ndarray:
    """Union of the named drops' hashes (missing drops contribute nothing), sorted for searchsorted."""
    parts = []
    for name in names:
        if folder.isfile(f"{name}.npy"):
            with folder.open(f"{name}.npy", "rb") as f:
                parts.append(np.load(io.BytesIO(f.read())))
    if not parts:
        return np.empty(0, dtype=np.uint64)
    return sorted_unique(np.concatenate(parts))


class HashSet:
    """Membership over an immutable sorted array (earlier drops) plus a growing set (this drop)."""

    def __init__(self, earlier: np.ndarray):
        self.earlier = earlier
        self.current: set[int] = set()

    def seen_before(self, h: int) -> bool:
        if self.earlier.size:
            i = np.searchsorted(self.earlier, np.uint64(h))
            if i < self.earlier.size and self.earlier[i] == h:
                return True
        return False

    def __contains__(self, h: int) -> bool:
        return h in self.current or self.seen_before(h)

    def add_if_new(self, h: int) -> bool:
        """True when `h` was not seen in an earlier drop nor earlier in this one (and records it)."""
        if h in self.current or self.seen_before(h):
            return False
        self.current.add(h)
        return True
