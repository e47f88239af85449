"""Check each LSH candidate pair's MinHash similarity before clustering.

Two documents become a candidate when one band of `hashes_per_bucket` hashes is equal, which happens for
pairs far below the threshold too (20 bands of 8 make a Jaccard-0.5 pair a candidate 7.5 % of the time), and
clustering would remove one of them. As text-dedup and datasketch-style pipelines do, a pair is kept only when
the share of equal hashes over the whole signature (an unbiased estimate of the Jaccard) reaches `threshold`.

Stage 1's bucket files are read one bucket at a time (one band of every document of the drop in memory; stage
1's own sort holds as much per task). Each drop's signatures are stored next to its LSH index
(`signatures/<drop>_<rank>.minhash.full`: one block per bucket, rows in document order), so that a later drop
checks its matches with that drop's index the same way. Only pairs datatrove writes are checked: of documents
sharing a band it pairs each with the next in hash order, so a chain broken by a dissimilar document in the
middle can miss a link that another band usually supplies.
"""
from __future__ import annotations

import posixpath

import numpy as np
from datatrove.io import DataFolder
from datatrove.pipeline.dedup.minhash import (
    SENTINEL,
    MinhashConfig,
    MinhashDedupCluster,
)

STORE = "signatures"  # folder of full signatures inside the index folder


class VerifiedMinhashCluster(MinhashDedupCluster):
    """datatrove's stage 3 on the candidate pairs whose estimated Jaccard reaches `threshold`; the pairs
    that pass are written to `verified_folder` (same file names) and clustered from there."""

    name = "🎯 MinHash stage 3 (verified pairs)"

    def __init__(self, input_folder: DataFolder, output_folder: DataFolder, sig_folder: DataFolder,
                 verified_folder: DataFolder, threshold: float, index_folder: DataFolder | None = None,
                 index_name: str | None = None, config: MinhashConfig | None = None, **kwargs):
        super().__init__(input_folder=input_folder, output_folder=output_folder, config=config, **kwargs)
        self.candidates, self.sig_folder, self.verified = input_folder, sig_folder, verified_folder
        self.threshold, self.index_folder, self.index_name = threshold, index_folder, index_name
        self.hash_dtype = np.dtype(f"<{self.config.hash_config.struct_format}")

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            self.verify()
        self.input_folder = self.verified
        return super().run(data, rank, world_size)

    def verify(self) -> None:
        names = sorted(self.candidates.list_files(glob_pattern="*.dups"))
        parts = [np.frombuffer(_read(self.candidates, n), dtype="<u4").reshape(-1, 4) for n in names]
        pairs = np.concatenate(parts) if parts else np.empty((0, 4), dtype="<u4")
        bucket = np.repeat([int(posixpath.basename(n)[:5]) for n in names], [len(p) for p in parts])
        from_index = pairs[:, 0] == SENTINEL
        equal, index_sigs = self._equal_hashes(pairs, from_index)
        keep = equal >= self.threshold * self.config.num_buckets * self.config.hashes_per_bucket
        keep[from_index] = self._confirmed_by_index(index_sigs, bucket[from_index])
        self.stat_update("candidate_pairs", value=len(pairs))
        self.stat_update("pairs_below_threshold", value=int((~keep).sum()))
        start = 0
        for name, part in zip(names, parts):
            with self.verified.open(name, "wb") as f:
                f.write(part[keep[start:start + len(part)]].tobytes())
            start += len(part)

    def _equal_hashes(self, pairs: np.ndarray, from_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Equal hashes of each pair within this drop, bucket by bucket; the full signatures of the documents
        in index matches; this drop's signature store written on the way."""
        cfg, h = self.config, self.config.hashes_per_bucket
        dtype = np.dtype([("h", self.hash_dtype, (h,)), ("doc", "<u4")])
        ranks = [posixpath.basename(p).removesuffix(".minhash.sig")
                 for p in sorted(self.sig_folder.list_files(subdirectory="bucket_000", glob_pattern="*.minhash.sig"))]
        equal = np.zeros(len(pairs), dtype=np.int32)
        index_sigs = np.empty((int(from_index.sum()), cfg.num_buckets * h), dtype=self.hash_dtype)
        stores = [self.index_folder.open(f"{STORE}/{self.index_name}_{r}.minhash.full", "wb")
                  for r in ranks] if self.index_folder is not None and self.index_name else []
        sizes = [self.sig_folder.size(f"bucket_000/{r}.minhash.sig") // dtype.itemsize for r in ranks]
        starts = np.cumsum([0, *sizes])
        band, rows = np.empty((starts[-1], h), dtype=self.hash_dtype), None
        try:
            for b in range(cfg.num_buckets):
                docs = []
                for r, store, start, end in zip(ranks, stores or [None] * len(ranks), starts[:-1], starts[1:]):
                    rec = np.frombuffer(_read(self.sig_folder, f"bucket_{b:03d}/{r}.minhash.sig"), dtype=dtype)
                    order = np.argsort(rec["doc"], kind="stable")
                    band[start:end] = rec["h"][order]
                    docs.append(rec["doc"][order])
                    if store is not None:
                        store.write(band[start:end].tobytes())
                if rows is None:  # documents are in the same order in every bucket
                    rows = _row_lookup(ranks, docs, pairs, from_index)
                first, second, in_index = rows
                equal[~from_index] += (band[first] == band[second]).sum(1)
                index_sigs[:, b * h:(b + 1) * h] = band[in_index]
        finally:
            for store in stores:
                store.close()
        return equal, index_sigs

    def _confirmed_by_index(self, sigs: np.ndarray, buckets: np.ndarray) -> np.ndarray:
        """For each match with an earlier drop's index: does one of that drop's documents sharing the band
        reach the threshold? Each earlier store is read twice, one bucket block at a time: to find the
        documents with the band, then to count their equal hashes."""
        ok = np.zeros(len(sigs), dtype=bool)
        if not len(sigs) or self.index_folder is None or not self.index_folder.exists(STORE):
            return ok
        h, nb = self.config.hashes_per_bucket, self.config.num_buckets
        stores = [f for f in self.index_folder.list_files(subdirectory=STORE)
                  if posixpath.basename(f).rsplit("_", 1)[0] != self.index_name]  # not this drop's own
        for path in stores:
            n = self.index_folder.size(path) // (nb * h * self.hash_dtype.itemsize)
            match_pair, match_row = [], []
            for b in np.unique(buckets):
                block, wanted = self._block(path, b, n), np.flatnonzero(buckets == b)
                near = np.flatnonzero(np.isin(block[:, 0], sigs[wanted, b * h]))  # a few rows, not all
                by_band: dict[bytes, list[int]] = {}
                for row in near.tolist():
                    by_band.setdefault(block[row].tobytes(), []).append(row)
                for i in wanted.tolist():
                    hit = by_band.get(sigs[i, b * h:(b + 1) * h].tobytes(), [])
                    match_pair += [i] * len(hit)
                    match_row += hit
            if not match_pair:
                continue
            mp, mr, equal = np.array(match_pair), np.array(match_row), np.zeros(len(match_pair), dtype=np.int32)
            for b in range(nb):
                equal += (self._block(path, b, n)[mr] == sigs[mp, b * h:(b + 1) * h]).sum(1)
            ok[mp[equal >= self.threshold * nb * h]] = True
        return ok

    def _block(self, path: str, b: int, n: int) -> np.ndarray:
        width = n * self.config.hashes_per_bucket * self.hash_dtype.itemsize
        with self.index_folder.open(path, "rb") as f:
            f.seek(b * width)
            return np.frombuffer(f.read(width), dtype=self.hash_dtype).reshape(n, self.config.hashes_per_bucket)


def _row_lookup(ranks: list[str], docs: list[np.ndarray], pairs: np.ndarray, from_index: np.ndarray):
    """Rows, in the concatenation of all ranks' documents, of each within-drop pair's two documents and of the
    drop's document in each index match."""
    offset = dict(zip((int(r) for r in ranks), np.cumsum([0] + [len(d) for d in docs[:-1]])))
    sorted_docs = dict(zip((int(r) for r in ranks), docs))

    def row(files: np.ndarray, ids: np.ndarray) -> np.ndarray:
        out = np.empty(len(files), dtype=np.int64)
        for f in np.unique(files):
            m = files == f
            out[m] = offset[int(f)] + np.searchsorted(sorted_docs[int(f)], ids[m])
        return out

    inner, index = pairs[~from_index], pairs[from_index]
    return row(inner[:, 0], inner[:, 1]), row(inner[:, 2], inner[:, 3]), row(index[:, 2], index[:, 3])


def _read(folder: DataFolder, path: str) -> bytes:
    with folder.open(path, "rb") as f:
        return f.read()
