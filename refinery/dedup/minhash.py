"""MinHash + LSH near-duplicate documents with datatrove's four stages, incremental across drops (and the
index view the sentence dedup shares).

Each drop writes its LSH index as `bucket_XXX/<drop>_NN.minhash.index`; a drop is deduplicated against
the indexes of the drops before it only (`EarlierDropsIndex`), so the result does not depend on the
order in which drops happen to be materialised.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable

from datatrove.io import DataFolder
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupFilter,
)
from datatrove.utils.hashing import HashConfig
from datatrove.utils.word_tokenizers import WordTokenizer

from refinery.dedup.minhash_fast import RensaMinhashSignature
from refinery.dedup.minhash_verify import VerifiedMinhashCluster


def minhash_index_owner(filename: str) -> str:
    """`bucket_003/2026-11-01_00.minhash.index` -> `2026-11-01` (datatrove's `<name>_<worker>` naming)."""
    return posixpath.basename(filename).rsplit("_", 1)[0]


def sentence_index_owner(filename: str) -> str:
    """`2026-11-01..c4_index` -> `2026-11-01` (datatrove's `<name>.<ext>` with ext `.c4_index`)."""
    return posixpath.basename(filename).split("..c4_index", 1)[0]


class EarlierDropsIndex(DataFolder):
    """A shared index folder seen through a filter that hides the index files of every drop not in
    `visible` (the writer's own files stay visible so datatrove can exclude or append them itself)."""

    def __init__(self, path: str, visible: list[str], writer: str, owner: Callable[[str], str] = minhash_index_owner,
                 **storage_options):
        super().__init__(path, **storage_options)
        self.visible, self.owner = set(visible) | {writer}, owner

    def list_files(self, subdirectory: str = "", recursive: bool = True, glob_pattern=None, include_directories=False):
        files = super().list_files(subdirectory, recursive, glob_pattern, include_directories)
        return [f for f in files if self.owner(f) in self.visible]


class WhitespaceTokenizer(WordTokenizer):
    """Shingle words for MinHash: datatrove hashes `simplify_text(text)`, which is already lowercased and
    stripped of punctuation, so splitting on whitespace gives the words, at a fraction of spaCy's cost
    (spaCy tokenization was most of the signature step). Not for scripts written without spaces.

    Only words with a letter are shingled. datatrove's punctuation list is ASCII plus a few CJK marks, so glyphs
    such as a permalink's pilcrow (Texinfo's and Sphinx's `¶`, which pandoc keeps in a DOCX and the HTML pass
    drops), bullets and arrows would otherwise break every shingle they fall in. A bare number is already
    folded to "0", so it only says that a number stood there, which depends on the format: an HTML `<ol>` is
    extracted with its item numbers, a Word or PowerPoint list's numbering is not text (SQLite's release notes
    as HTML and as DOCX: Jaccard 0.50 with the item numbers, 0.83 without)."""

    def __init__(self):
        super().__init__("whitespace")

    def word_tokenize(self, text: str) -> list[str]:
        return [w for w in text.split() if w.isalpha() or (not w.isdigit() and any(c.isalpha() for c in w))]

    def sent_tokenize(self, text: str) -> list[str]:
        raise NotImplementedError("MinHash shingling only needs words")

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError("MinHash shingling only needs words")


class GroupedMinhashBuckets(MinhashDedupBuckets):
    """datatrove's stage 2 with any number of tasks up to `num_buckets`: task `rank` of `world_size` takes
    buckets rank, rank + world_size, ... and runs datatrove's code on each as its own task. A bucket is little
    work (all 20 of the benchmark's take 0.09 CPU-s) next to what each datatrove task costs (its log handlers,
    stats and completion files): 20 one-bucket tasks a drop were ~1 CPU-s of the realdocs flow."""

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        buckets = self.config.num_buckets
        if world_size > buckets:
            raise ValueError(f"{world_size} tasks for {buckets} MinHash buckets: at most one task per bucket")
        for bucket in range(rank, buckets, world_size):
            super().run(data, rank=bucket, world_size=buckets)


def minhash_config(n_grams: int, num_buckets: int, hashes_per_bucket: int, seed: int) -> MinhashConfig:
    # 32-bit: rensa's R-MinHash values (minhash_fast.py); shingles stay 64-bit hashes, so distinct shingles
    # practically never collide, and two values agree by chance once in 2^32
    return MinhashConfig(
        n_grams=n_grams, num_buckets=num_buckets, hashes_per_bucket=hashes_per_bucket, seed=seed,
        hash_config=HashConfig(precision=32, hash_fc="xxhash"),
    )


def minhash_steps(config: MinhashConfig, work: Callable[[str], DataFolder], index: DataFolder, drop: str,
                  exclusion_writer=None, language: str = "whitespace", threshold: float = 0.7) -> dict:
    """The four datatrove steps, stage 1 in rensa (minhash_fast.py); `work(name)` gives a scratch folder. Stages 1 and 4 each follow a reader
    over the same input files, so document indices line up. Stage 3 clusters only the candidate pairs whose
    estimated Jaccard reaches `threshold` (minhash_verify.py)."""
    sigs, buckets, clusters = work("signatures"), work("buckets"), work("clusters")
    return dict(
        signatures=RensaMinhashSignature(
            output_folder=sigs, config=config, language=language,
            tokenizer=WhitespaceTokenizer() if language == "whitespace" else None),
        buckets=GroupedMinhashBuckets(
            input_folder=sigs, output_folder=buckets, config=config,
            index_folder=index, create_index_name=drop, only_dedup_in_index=False,
        ),
        cluster=VerifiedMinhashCluster(input_folder=buckets, output_folder=clusters, sig_folder=sigs,
                                       verified_folder=work("verified_pairs"), threshold=threshold,
                                       index_folder=index, index_name=drop, config=config, save_cluster_id=True),
        filter=MinhashDedupFilter(input_folder=clusters, exclusion_writer=exclusion_writer, load_cluster_ids=True),
    )
