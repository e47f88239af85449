"""Check each LSH candidate pair's MinHash similarity before clustering.

Two documents become a candidate when one band of `hashes_per_bucket` hashes is equal, which happens for
pairs far below the threshold too (20 bands of 8 make a Jaccard-0.5 pair a candidate 7.5 % of the time), and
clustering would remove one of them. Like text-dedup and datasketch-style pipelines, a pair is kept only when
the fraction of equal hashes over the whole signature (an unbiased estimate of the Jaccard) reaches
`threshold`. The signatures come from stage 1's sorted bucket files, read once; the full signatures of a
drop's documents are also stored next to its LSH index (`signatures/<drop>_<rank>.minhash.full`) so that a
later drop can check its matches against that drop's index the same way.
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
_CHUNK_ROWS = 1 << 16


def _sig_dtype(config: MinhashConfig) -> np.dtype:
    return np.dtype([("h", f"<{config.hash_config.struct_format}", (config.hashes_per_bucket,)), ("doc", "<u4")])


def _read(folder: DataFolder, path: str) -> bytes:
    with folder.open(path, "rb") as f:
        return f.read()


def full_signatures(sigs: DataFolder, config: MinhashConfig, rank: str) -> tuple[np.ndarray, np.ndarray]:
    """(document indices, signatures) of one stage-1 rank, rebuilt from its per-bucket files (each sorted by
    hash); rows in document order. Documents without shingles have no signature and no row."""
    h, docs, full = config.hashes_per_bucket, None, None
    for b in range(config.num_buckets):
        rec = np.frombuffer(_read(sigs, f"bucket_{b:03d}/{rank}.minhash.sig"), dtype=_sig_dtype(config))
        order = np.argsort(rec["doc"], kind="stable")
        if full is None:
            docs = rec["doc"][order]
            full = np.empty((len(rec), config.num_buckets * h), dtype=rec["h"].dtype)
        full[:, b * h:(b + 1) * h] = rec["h"][order]
    return docs, full


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

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            self.verify()
        self.input_folder = self.verified
        return super().run(data, rank, world_size)

    # --------------------------------------------------------------------------------------------------

    def verify(self) -> None:
        cfg = self.config
        pairs = {f: np.frombuffer(_read(self.candidates, f), dtype="<u4").reshape(-1, 4)
                 for f in self.candidates.list_files(glob_pattern="*.dups")}
        wanted: dict[int, set[int]] = {}
        for p in pairs.values():
            for fcol, dcol in ((0, 1), (2, 3)):
                for f, d in p[p[:, fcol] != SENTINEL][:, [fcol, dcol]].tolist():
                    wanted.setdefault(f, set()).add(d)
        sig = {}  # (rank, doc) -> full signature, for documents in a candidate pair only
        for path in self.sig_folder.list_files(subdirectory="bucket_000", glob_pattern="*.minhash.sig"):
            stem = posixpath.basename(path).removesuffix(".minhash.sig")
            docs, full = full_signatures(self.sig_folder, cfg, stem)
            if self.index_folder is not None and self.index_name:
                with self.index_folder.open(f"{STORE}/{self.index_name}_{stem}.minhash.full", "wb") as f:
                    f.write(full.tobytes())
            need = np.isin(docs, np.fromiter(wanted.get(int(stem), ()), dtype=np.uint32))
            sig.update(((int(stem), int(d)), row) for d, row in zip(docs[need], full[need]))
        earlier = self._index_matches(pairs, sig)
        for name, p in pairs.items():
            bucket = int(posixpath.basename(name)[:5])
            keep = np.zeros(len(p), dtype=bool)
            for i, (f1, d1, f2, d2) in enumerate(p.tolist()):
                if f1 == SENTINEL:
                    keep[i] = (bucket, f2, d2) in earlier
                else:
                    keep[i] = np.mean(sig[(f1, d1)] == sig[(f2, d2)]) >= self.threshold
            self.stat_update("candidate_pairs", value=len(p))
            self.stat_update("pairs_below_threshold", value=int((~keep).sum()))
            with self.verified.open(name, "wb") as f:
                f.write(p[keep].tobytes())

    def _index_matches(self, pairs: dict, sig: dict) -> set[tuple[int, int, int]]:
        """(bucket, rank, doc) of the matches with an earlier drop's index that one of that drop's documents
        sharing the band confirms. Earlier signatures are streamed; only rows whose band's first hash
        matches a wanted band are compared."""
        h, width = self.config.hashes_per_bucket, self.config.num_buckets * self.config.hashes_per_bucket
        wanted: dict[int, list[tuple[int, int]]] = {}  # bucket -> [(rank, doc)]
        for name, p in pairs.items():
            for _, _, f, d in p[p[:, 0] == SENTINEL].tolist():
                wanted.setdefault(int(posixpath.basename(name)[:5]), []).append((f, d))
        if not wanted or self.index_folder is None or not self.index_folder.exists(STORE):
            return set()
        confirmed = set()
        stores = [f for f in self.index_folder.list_files(subdirectory=STORE)
                  if posixpath.basename(f).rsplit("_", 1)[0] != self.index_name]  # not this drop's own
        itemsize = np.dtype(f"<{self.config.hash_config.struct_format}").itemsize
        for path in stores:
            with self.index_folder.open(path, "rb") as f:
                while chunk := f.read(_CHUNK_ROWS * width * itemsize):
                    rows = np.frombuffer(chunk, dtype=f"<{self.config.hash_config.struct_format}").reshape(-1, width)
                    for b, keys in wanted.items():
                        band = slice(b * h, (b + 1) * h)
                        heads = np.fromiter((sig[k][b * h] for k in keys), dtype=rows.dtype)
                        near = rows[np.isin(rows[:, b * h], heads)]
                        for key in keys:
                            if len(near) and (b, *key) not in confirmed:
                                s = sig[key]
                                same_band = near[(near[:, band] == s[band]).all(1)]
                                if len(same_band) and (same_band == s).mean(1).max() >= self.threshold:
                                    confirmed.add((b, *key))
        return confirmed
