"""MinHash signatures in compiled code: datatrove's normalisation without its per-character loop, word hashes
and the 160 min-hashes per document in rensa (Rust), word n-grams combined in numpy.

The words are exactly those datatrove's simplify_text + WhitespaceTokenizer give (`simplify_words`; tests
compare them on real documents). What changes is how they are hashed, so this is a new signature scheme
(`SCHEME`): a shingle is a polynomial hash of its n rensa word hashes, and the signature is rensa's R-MinHash,
32 bits a value. Index files of the old scheme (datatrove's xxhash64 of the joined n-gram, 64-bit values)
cannot be compared with these; minhash_scheme.py keeps the two from mixing.
"""
from __future__ import annotations

import importlib.metadata
import re
import unicodedata
from itertools import chain, filterfalse

import numpy as np
import rensa
from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
from datatrove.utils.text import NUMBERS_PATTERN, PUNCTUATION, PUNCTUATION_TRANS, simplify_text
from datatrove.utils.typeshelper import StatHints

# a change of rensa's word hash or of R-MinHash would silently change every signature, so the scheme names
# the version (pinned in pyproject.toml; tests pin a few hash values too)
SCHEME = f"rminhash32-polyngram-v1 (rensa {importlib.metadata.version('rensa')})"
LEGACY_SCHEME = "datatrove-xxhash64"  # what indexes written before SCHEME existed hold

# datatrove's ASCII punctuation -> space, on UTF-8 bytes: every byte of a multi-byte character is >= 0x80, so
# the ASCII bytes are exactly the ASCII characters (str.translate leaves its fast path at the first non-ASCII)
_ASCII_PUNCT_BYTES = bytes.maketrans(bytes(range(128)), bytes(32 if chr(c) in PUNCTUATION else c for c in range(128)))
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class _RunMap(dict):
    """A run of non-ASCII characters -> what datatrove's punctuation table and NFD-minus-Mn make of it.
    Both act per character (NFD's reordering only moves combining marks, which never cross an ASCII
    character), so doing them run by run gives the same text; runs repeat, so they are cached."""

    def __missing__(self, run: str) -> str:
        out = "".join(c for c in unicodedata.normalize("NFD", run.translate(PUNCTUATION_TRANS))
                      if unicodedata.category(c) != "Mn")
        if len(self) < 200_000:
            self[run] = out
        return out


_RUNS = _RunMap()


def simplify_words(text: str) -> list[str]:
    """`WhitespaceTokenizer().word_tokenize(simplify_text(text))`, 3-30x faster: lower case and numbers as
    datatrove does, punctuation of ASCII text by str.translate's ASCII fast path, and the non-ASCII runs
    (a few per line) through `_RunMap`. Whitespace is not collapsed since the words are split on it anyway.
    In ASCII text every word is then letters and "0"s (numbers became "0"), so "has a letter" is "is not
    '0'". Other text has other words without a letter ("•", and NFD makes "≠" an "="): each distinct word
    is tested once."""
    text = NUMBERS_PATTERN.sub("0", text.lower())
    if text.isascii():
        return list(filter("0".__ne__, text.translate(PUNCTUATION_TRANS).split()))
    text = text.encode("utf-8", "surrogatepass").translate(_ASCII_PUNCT_BYTES).decode("utf-8", "surrogatepass")
    text = _NON_ASCII.sub(lambda m: _RUNS[m.group()], text)
    words = text.split()
    # an alphanumeric word lacks a letter when it is all numerals ("0", or "00" once NFD dropped a mark)
    bad = {w for w in set(words) if w.isnumeric() or not (w.isalnum() or any(c.isalpha() for c in w))}
    return list(filterfalse(bad.__contains__, words)) if bad else words


class _PunctRunMap(dict):
    def __missing__(self, run: str) -> str:
        out = run.translate(PUNCTUATION_TRANS)
        if len(self) < 200_000:
            self[run] = out
        return out


class _MarkRunMap(dict):
    def __missing__(self, run: str) -> str:
        out = "".join(c for c in unicodedata.normalize("NFD", run) if unicodedata.category(c) != "Mn")
        if len(self) < 200_000:
            self[run] = out
        return out


_PUNCT_RUNS, _MARK_RUNS = _PunctRunMap(), _MarkRunMap()


def simplify_text_fast(text: str) -> str:
    """datatrove's `simplify_text(text)` (default config), the same string (CCNet's paragraph key hashes it),
    in datatrove's order: lower case, numbers, punctuation, whitespace, then NFD without marks run by run
    (which can leave two spaces where a lone mark stood between them, as datatrove's does), strip."""
    text = NUMBERS_PATTERN.sub("0", text.lower())
    if text.isascii():
        return " ".join(text.translate(PUNCTUATION_TRANS).split())
    text = text.encode("utf-8", "surrogatepass").translate(_ASCII_PUNCT_BYTES).decode("utf-8", "surrogatepass")
    text = " ".join(_NON_ASCII.sub(lambda m: _PUNCT_RUNS[m.group()], text).split())
    return _NON_ASCII.sub(lambda m: _MARK_RUNS[m.group()], text).strip()


def reference_words(text: str, tokenizer) -> list[str]:
    """The words by datatrove's own code, for other tokenizers (spaCy for scripts without spaces) and tests."""
    return tokenizer.word_tokenize(simplify_text(text))


_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constants (golden ratio; splitmix64's finaliser)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def shingle_hashes(words: list[list[str]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the word n-grams of each document, flat, and the row offsets (document i's shingles are
    flat[offsets[i]:offsets[i + 1]]). A document with fewer than n words has none, as in datatrove.
    Word hashes are rensa's (Rust); an n-gram is h = h * MUL + word over its words, mixed by splitmix64's
    finaliser, all in numpy over the whole batch."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    flat = np.array(rensa.RMinHash.hash_token_sets([list(chain.from_iterable(words))])[0], dtype=np.uint64)
    if len(flat) != lengths.sum():  # one hash per word, in order, repeats included: the n-grams depend on it
        raise RuntimeError(f"rensa {importlib.metadata.version('rensa')} returned {len(flat)} hashes for "
                           f"{lengths.sum()} words; the pinned version (pyproject.toml) returns one per word")
    windows = np.maximum(lengths - n + 1, 0)
    offsets = np.zeros(len(words) + 1, dtype=np.uint64)
    np.cumsum(windows, out=offsets[1:])
    # start of each window in `flat`: the document's first word + the window's position in the document
    doc_start = np.repeat(np.cumsum(lengths) - lengths, windows)
    starts = doc_start + (np.arange(int(windows.sum())) - np.repeat(offsets[:-1].astype(np.int64), windows))
    h = np.zeros(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _MUL + flat[starts + k]
        h ^= h >> np.uint64(30)
        h *= _M1
        h ^= h >> np.uint64(27)
        h *= _M2
        h ^= h >> np.uint64(31)
    return h, offsets


def signatures(words: list[list[str]], n: int, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """R-MinHash signatures (uint32, one row per document) and which documents have any shingle."""
    flat, offsets = shingle_hashes(words, n)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, num_perm, seed)
    return np.array(matrix.to_rows(), dtype=np.uint32).reshape(len(words), num_perm), np.diff(offsets) > 0


class RensaMinhashSignature(MinhashDedupSignature):
    """datatrove's stage 1 with the signatures computed a batch of documents at a time in rensa. Writes the
    same files (`bucket_XXX/<rank>.minhash.sig`, records of `hashes_per_bucket` hashes + document index,
    sorted), so stages 2-4, the per-drop index files and the verification read them unchanged. Needs a
    32-bit hash config (R-MinHash values are 32-bit)."""

    name = "🎯 MinHash stage 1 (rensa)"
    batch_docs = 2000

    def __init__(self, output_folder, config, language: str = "whitespace", tokenizer=None):
        if config.hash_config.precision != 32:
            raise ValueError("rensa's R-MinHash values are 32-bit: use HashConfig(precision=32)")
        super().__init__(output_folder=output_folder, config=config,
                         language=tokenizer if tokenizer is not None else language)
        self.fast_words = language == "whitespace"

    def words(self, text: str) -> list[str]:
        return simplify_words(text) if self.fast_words else reference_words(text, self.word_tokenizer)

    def get_shingles(self, text: str) -> np.ndarray:
        """This scheme's shingle hashes of one text, (N, 1) as datatrove's (bench/near_dup.py's true Jaccard)."""
        return shingle_hashes([self.words(text)], self.config.n_grams)[0].reshape(-1, 1)

    def get_signature(self, shingles: np.ndarray) -> list[list[int]]:
        """This scheme's signature of one document's shingle hashes, per band (datatrove's shape)."""
        cfg, flat = self.config, np.ascontiguousarray(shingles.ravel(), dtype=np.uint64)
        matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
            flat, np.array([0, len(flat)], dtype=np.uint64), cfg.num_buckets * cfg.hashes_per_bucket, cfg.seed)
        row = matrix.to_rows()[0]
        return [row[b * cfg.hashes_per_bucket:(b + 1) * cfg.hashes_per_bucket] for b in range(cfg.num_buckets)]

    def run(self, data, rank: int = 0, world_size: int = 1):
        cfg = self.config
        rec = np.dtype([("h", "<u4", (cfg.hashes_per_bucket,)), ("doc", "<u4")])
        with self.track_time():
            files = [self.output_folder.open(f"bucket_{b:03d}/{rank:05d}.minhash.sig", mode="wb")
                     for b in range(cfg.num_buckets)]
            try:
                batch, first = [], 0
                for doc in data:
                    self.stat_update(StatHints.total)
                    batch.append(self.words(doc.text))
                    if len(batch) == self.batch_docs:
                        self._write(files, batch, first, rec)
                        first, batch = first + len(batch), []
                if batch:
                    self._write(files, batch, first, rec)
            finally:
                for f in files:
                    f.close()
            for b in range(cfg.num_buckets):  # stage 2 merges the buckets in hash order
                path = f"bucket_{b:03d}/{rank:05d}.minhash.sig"
                with self.output_folder.open(path, "rb") as f:
                    records = np.frombuffer(f.read(), dtype=rec).copy()
                order = np.lexsort([records["doc"]] + [records["h"][:, i] for i in reversed(range(rec["h"].shape[0]))])
                with self.output_folder.open(path, "wb") as f:
                    f.write(records[order].tobytes())

    def _write(self, files, batch: list[list[str]], first: int, rec: np.dtype) -> None:
        cfg = self.config
        sigs, has = signatures(batch, cfg.n_grams, cfg.num_buckets * cfg.hashes_per_bucket, cfg.seed)
        docs = np.flatnonzero(has)  # a document without shingles gets no signature, as in datatrove
        out = np.empty(len(docs), dtype=rec)
        out["doc"] = docs + first
        for b, f in enumerate(files):
            out["h"] = sigs[docs, b * cfg.hashes_per_bucket:(b + 1) * cfg.hashes_per_bucket]
            f.write(out.tobytes())
