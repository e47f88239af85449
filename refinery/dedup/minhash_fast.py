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
from itertools import accumulate, chain, compress

import numpy as np
import regex
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

# simplify_words' first pass over the UTF-8 bytes: ASCII letters lowered, digits "0", punctuation and tabs and
# newlines a space, except "." and "," (they join a number's parts, so they go after the numbers)
_LOWER_ZERO_PUNCT = bytes(c + 32 if 65 <= c <= 90 else 48 if 48 <= c <= 57 else c if c in b".,"
                          else 32 if c < 128 and (chr(c) in PUNCTUATION or c in b"\t\n") else c for c in range(256))
_DOTS = bytes.maketrans(b".,", b"  ")
# NUMBERS_PATTERN once the digits are "0"s, without its matches of a lone "0" (they change nothing): the leading
# literal lets re skip ahead, 3x less than regex's \p{Nd} scan
_NUMBERS_ZEROS = re.compile(rb"0(?:0+(?:[.,]0+)?|[.,]0+)")
_NON_ASCII_BYTES = regex.compile(rb"([\x80-\xff]+)")  # regex: 4x faster than re at finding them
# what a run of non-ASCII characters cannot be mapped alone for: other scripts' digits and the other decimal
# separators (a number crosses runs) and capital sigma (its lower case depends on the letters around it); regex's
# \p{Nd} as NUMBERS_PATTERN's, whose Unicode is newer than unicodedata's
_CONTEXTUAL = regex.compile(r"[\p{Nd}\u060c\u066b\u2396\u2397\u2398\u03a3]")


class _MarksSpaces(dict):
    """str.translate's table for a character after NFD: a combining mark (Mn) dropped, whitespace a space."""

    def __missing__(self, code: int) -> str | None:
        c = chr(code)
        self[code] = out = None if unicodedata.category(c) == "Mn" else " " if c.isspace() else c
        return out


_MARKS_SPACES = _MarksSpaces()


class _RunMap(dict):
    """The UTF-8 bytes of a run of non-ASCII characters -> those of what datatrove's lower case, punctuation
    table and NFD-minus-Mn make of it, whitespace as a space. All act per character (but what `_CONTEXTUAL`
    finds, noted in `contextual`; NFD's reordering only moves combining marks, which never cross an ASCII
    character), so doing them run by run gives the same text; runs repeat, so they are cached. `letterless`
    notes the runs whose output, if not blank, has no letter: a word holding one may have none ("•", "≠" ->
    "=", a lone mark between two digits -> "00")."""

    limit = 200_000

    def __init__(self):
        super().__init__()
        self.contextual, self.letterless = set(), set()

    def __missing__(self, run: bytes) -> bytes:
        text = run.decode("utf-8", "surrogatepass")
        out = unicodedata.normalize("NFD", text.lower().translate(PUNCTUATION_TRANS)).translate(_MARKS_SPACES)
        if _CONTEXTUAL.search(text):
            self.contextual.add(run)
        if not out.isspace() and not any(map(str.isalpha, out)):
            self.letterless.add(run)
        self[run] = out = out.encode("utf-8", "surrogatepass")
        return out

    def apply(self, data: bytes) -> tuple[list[bytes], list[bytes]]:
        """`data` split at its runs with each run mapped (ASCII, run, ASCII, ...), and the runs."""
        if len(self) > self.limit:  # before mapping, so that the sets hold every run of this text
            self.clear()
            self.contextual.clear()
            self.letterless.clear()
        parts = _NON_ASCII_BYTES.split(data)
        runs = parts[1::2]
        parts[1::2] = map(self.__getitem__, runs)
        return parts, runs


_RUNS = _RunMap()


def _has_letter(word: bytes) -> bool:
    return word.isalpha() or any(map(str.isalpha, word.decode("utf-8", "surrogatepass")))


def simplify_words(text: str) -> list[bytes]:
    """`WhitespaceTokenizer().word_tokenize(simplify_text(text))` as UTF-8 bytes (what rensa hashes of a str),
    7x faster on the realdocs documents: on the bytes, lower case, numbers and ASCII punctuation by
    bytes.translate and one regex, then each run of non-ASCII characters through `_RunMap`; whitespace is not
    collapsed since the words are split on it anyway. Words without a letter are dropped: in ASCII they are
    the "0"s numbers became; others hold a letterless run, so only the words around those runs are tested."""
    data = _NUMBERS_ZEROS.sub(b"0", text.encode("utf-8", "surrogatepass").translate(_LOWER_ZERO_PUNCT)).translate(_DOTS)
    if not text.isascii():
        parts, runs = _RUNS.apply(data)
        if not _RUNS.contextual.isdisjoint(runs):  # numbers and lower case of the whole text by datatrove's code
            lowered = NUMBERS_PATTERN.sub("0", text.lower()).encode("utf-8", "surrogatepass")
            parts, runs = _RUNS.apply(lowered.translate(_LOWER_ZERO_PUNCT).translate(_DOTS))
        data = b"".join(parts)
        if not _RUNS.letterless.isdisjoint(runs):
            data = _drop_letterless(data, parts, runs)
    return [w for w in data.split() if w != b"0"]


def _drop_letterless(data: bytes, parts: list[bytes], runs: list[bytes]) -> bytes:
    """`data` (the joined `parts`) with the words that hold a letterless run and no letter blanked. Words are
    separated by spaces only: the first pass and the run map made every other whitespace one."""
    ends = list(accumulate(map(len, parts)))
    kept, prev = [], 0
    for i in compress(range(len(runs)), map(_RUNS.letterless.__contains__, runs)):
        at, stop = ends[2 * i], ends[2 * i + 1]
        while True:  # each word the run's output is part of (the output can hold spaces)
            start = data.rfind(b" ", 0, at) + 1
            end = data.find(b" ", at)
            end = len(data) if end < 0 else end
            if end > start >= prev and not _has_letter(data[start:end]):
                kept.append(data[prev:start])
                prev = end
            if end >= stop:
                break
            at = end + 1
    if not kept:
        return data
    kept.append(data[prev:])
    return b" ".join(kept)


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


Words = list[list[bytes]] | list[list[str]]  # per document: simplify_words' or a tokenizer's (rensa hashes the UTF-8)
_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constants (golden ratio; splitmix64's finaliser)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def shingle_hashes(words: Words, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the word n-grams of each document, flat, and the row offsets (document i's shingles are
    flat[offsets[i]:offsets[i + 1]]). A document with fewer than n words has none, as in datatrove.
    Word hashes are rensa's (Rust); an n-gram is h = h * MUL + word over its words, mixed by splitmix64's
    finaliser, all in numpy over the whole batch."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    flat = np.fromiter(rensa.RMinHash.hash_token_sets([list(chain.from_iterable(words))])[0], dtype=np.uint64)
    if len(flat) != lengths.sum():  # one hash per word, in order, repeats included: the n-grams depend on it
        raise RuntimeError(f"rensa {importlib.metadata.version('rensa')} returned {len(flat)} hashes for "
                           f"{lengths.sum()} words; the pinned version (pyproject.toml) returns one per word")
    offsets = np.zeros(len(words) + 1, dtype=np.uint64)
    np.cumsum(np.maximum(lengths - n + 1, 0), out=offsets[1:])
    # every n consecutive words of the batch, on slices (no gathers), then those within one document: not the
    # last n - 1 starts of each (all of a shorter one's)
    m = max(len(flat) - n + 1, 0)
    within = np.ones(m, dtype=bool)
    ends = np.cumsum(lengths)
    for k in range(1, n):
        last = ends[lengths >= k] - k
        within[last[last < m]] = False
    h = flat[:m].copy()
    with np.errstate(over="ignore"):
        for k in range(1, n):
            h *= _MUL
            h += flat[k:k + m]
        h = h[within]
        h ^= h >> np.uint64(30)
        h *= _M1
        h ^= h >> np.uint64(27)
        h *= _M2
        h ^= h >> np.uint64(31)
    return h, offsets


def signatures(words: Words, n: int, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
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
    # documents are signed a batch of about this many words at a time: enough to amortise the calls into rensa
    # and numpy, few enough that the batch's word objects and arrays reuse memory instead of faulting in new
    # pages (realdocs bench: stage 1 0.25 CPU-s vs 0.34 with 2,000 documents, ~1.5M words, a batch)
    batch_words = 20_000

    def __init__(self, output_folder, config, language: str = "whitespace", tokenizer=None):
        if config.hash_config.precision != 32:
            raise ValueError("rensa's R-MinHash values are 32-bit: use HashConfig(precision=32)")
        super().__init__(output_folder=output_folder, config=config,
                         language=tokenizer if tokenizer is not None else language)
        self.fast_words = language == "whitespace"

    def words(self, text: str) -> list[bytes] | list[str]:
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
                batch, first, words = [], 0, 0
                for doc in data:
                    self.stat_update(StatHints.total)
                    batch.append(self.words(doc.text))
                    words += len(batch[-1])
                    if words >= self.batch_words:
                        self._write(files, batch, first, rec)
                        first, batch, words = first + len(batch), [], 0
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

    def _write(self, files, batch: Words, first: int, rec: np.dtype) -> None:
        cfg = self.config
        sigs, has = signatures(batch, cfg.n_grams, cfg.num_buckets * cfg.hashes_per_bucket, cfg.seed)
        docs = np.flatnonzero(has)  # a document without shingles gets no signature, as in datatrove
        out = np.empty(len(docs), dtype=rec)
        out["doc"] = docs + first
        for b, f in enumerate(files):
            out["h"] = sigs[docs, b * cfg.hashes_per_bucket:(b + 1) * cfg.hashes_per_bucket]
            f.write(out.tobytes())
