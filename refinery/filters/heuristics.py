"""datatrove's heuristic quality filters with their decisions unchanged, except that every drop carries a reason
(Gopher repetition is recomputed with cheaper counting, C4's sentence rule and line loop with shortcuts);
`Prose*` judge the document's prose only (the `documents` profile)."""
from __future__ import annotations

import re
from collections import Counter
from functools import cached_property
from itertools import count

import numpy as np

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.stats import MetricStats
from datatrove.utils.text import split_into_words

from refinery.filters.prose_quality import OnProse
from refinery.filters.reasons import ReasonedFilter


class GopherRepetition(ReasonedFilter, GopherRepetitionFilter):
    """datatrove's rules and decisions, computed with C-level counting (sets of lines, n-grams counted in
    numpy: NGrams) instead of its per-n-gram Python loops: a quarter of its time or less. tests/filters/
    test_fast_paths.py checks every helper against datatrove's own on real documents."""

    default_reason = "gopher_repetition"

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        if not text:
            return False, "empty"
        paragraphs = self.paragraph_exp.split(text.strip())
        paragraphs_duplicates, char_duplicates = find_duplicates(paragraphs)
        if self.dup_para_frac and paragraphs_duplicates / len(paragraphs) > self.dup_para_frac:
            return False, "dup_para_frac"
        if self.dup_para_char_frac and char_duplicates / len(text) > self.dup_para_char_frac:
            return False, "dup_para_char_frac"
        lines = self._line_splitter.split(text)
        line_duplicates, char_duplicates = find_duplicates(lines)
        if self.dup_line_frac and line_duplicates / len(lines) > self.dup_line_frac:
            return False, "dup_line_frac"
        if self.dup_line_char_frac and char_duplicates / len(text) > self.dup_line_char_frac:
            return False, "dup_line_char_frac"
        grams = NGrams(split_into_words(text, self.language))
        for n, n_frac in self.top_n_grams:
            top_char_length = grams.top_duplicate(n)
            if top_char_length is not None and top_char_length / len(text) > n_frac:
                return False, f"top_{n}_gram"
        for n, n_frac in self.dup_n_grams:
            if grams.duplicates_over(n, n_frac, len(text)):
                return False, f"duplicated_{n}_n_grams"
        return True


def find_duplicates(x: list[str]) -> tuple[int, int]:
    """datatrove's find_duplicates: elements (and their characters) after their first occurrence."""
    unique = set(x)
    return len(x) - len(unique), sum(map(len, x)) - sum(map(len, unique))


def _n_grams(words: list[str], n: int, sep: str) -> list[str]:
    return list(map(sep.join, zip(*(words[i:] for i in range(n)))))


_U64 = np.uint64
_B = 0x100000001B3  # FNV's 64-bit prime: odd
_B_INVERSE = pow(_B, -1, 2**64)


def _char_hashes(codes: np.ndarray) -> np.ndarray:
    """A 64-bit hash per character code (splitmix64's finalizer; numpy's uint64 arithmetic wraps)."""
    z = codes.astype(_U64) + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct key (of at least one): how many times it occurs, and where first."""
    order = keys.argsort()  # not stable, 6x faster than a stable sort on 20,000 keys: first = the least index
    ranked = keys[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])  # where each distinct key's run starts
    return np.diff(starts, append=len(keys)), np.minimum.reduceat(order, starts)


class NGrams:
    """One document's word n-grams for every n of the repetition rules, counted in numpy from arrays built once
    (building and hashing the n-gram strings in Python was most of the filter's time)."""

    def __init__(self, words: list[str]):
        self.words = words
        self._joined = "".join(words)
        self._offsets = np.zeros(len(words) + 1, dtype=np.int64)  # each word's start in _joined, and its end
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=self._offsets[1:])

    @cached_property
    def _ids(self) -> np.ndarray:
        """One integer per distinct word."""
        index: dict[str, int] = {}
        return np.fromiter(map(index.setdefault, self.words, count()), dtype=np.int64, count=len(self.words))

    @cached_property
    def _hashes(self) -> tuple[np.ndarray, np.ndarray]:
        """A polynomial hash of any run of words joined without a separator (datatrove's all-duplicate
        n-grams), from two arrays at word boundaries: the run from word i to word j hashes to
        (sums[j] - sums[i]) * scales[i], the sum of its characters' hashes times B⁻¹ to the power of their
        position in it (mod 2⁶⁴: numpy's uint64 arithmetic wraps; B is odd, so it has an inverse)."""
        codes = np.frombuffer(self._joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        powers, inverse = np.repeat(np.array([[_B], [_B_INVERSE]], dtype=_U64), len(codes) + 1, axis=1)
        powers[0] = inverse[0] = 1
        np.cumprod(powers, out=powers)  # B^k
        np.cumprod(inverse, out=inverse)  # B^-k
        sums = np.zeros(len(codes) + 1, dtype=_U64)
        np.cumsum(_char_hashes(codes) * inverse[:-1], out=sums[1:])
        return sums[self._offsets], powers[self._offsets]

    def top_duplicate(self, n: int) -> int | None:
        """datatrove's find_top_duplicate(get_n_grams(words, n)): characters of the most frequent n-gram times
        its count (the first one seen on ties, as Counter.most_common); None without n-grams."""
        n_grams = len(self.words) - n + 1
        if n_grams <= 0:
            return None
        if " " in self._joined or len(self.words) ** n >= 2**63:
            # words holding a space can join to the same n-gram from different words; or the keys overflow
            gram, repeats = Counter(_n_grams(self.words, n, " ")).most_common(1)[0]
            return len(gram) * repeats
        keys = np.zeros(n_grams, dtype=np.int64)  # the n word ids as the digits of a number: one per n-gram
        for i in range(n):
            keys = keys * len(self.words) + self._ids[i:i + n_grams]
        counts, firsts = _runs(keys)
        top = counts.max()
        first = int(firsts[counts == top].min())  # the first seen of the most frequent
        return int(self._offsets[first + n] - self._offsets[first] + n - 1) * int(top)  # n - 1 spaces

    def duplicates_over(self, n: int, frac: float, text_len: int) -> bool:
        """datatrove's `find_all_duplicate(words, n) / text_len > frac`. Its scan counts n-grams equal to one
        before it, jumping over each one it counts: disjoint, so at most the characters of the words that
        repeated n-grams cover. Bounding that in numpy first (equal n-grams hash alike, so the n-grams with a
        hash seen before are all the repeats, and any collision): within the limit, the scan cannot exceed it
        either and is skipped (all but ~1% of the documents, for every n)."""
        sums, scales = self._hashes
        hashes = (sums[n:] - sums[:-n]) * scales[:-n]  # empty without n-grams
        is_repeat = np.ones(len(hashes), dtype=bool)
        if len(hashes):
            is_repeat[_runs(hashes)[1]] = False
        repeats = np.flatnonzero(is_repeat)  # where an n-gram repeats an earlier one
        size = len(self.words) + 1
        starts_minus_ends = np.bincount(repeats, minlength=size) - np.bincount(repeats + n, minlength=size)
        covered = np.cumsum(starts_minus_ends[:-1]) > 0  # the words inside any repeated n-gram
        if int(np.diff(self._offsets)[covered].sum()) / text_len <= frac:
            return False
        grams = _n_grams(self.words, n, "")  # datatrove joins n-gram words without a separator
        unique, repeated, idx = set(), 0, 0
        while idx < len(grams):
            gram = grams[idx]
            if gram in unique:
                repeated += len(gram)
                idx += n
            else:
                unique.add(gram)
                idx += 1
        return repeated / text_len > frac


class GopherQuality(ReasonedFilter, GopherQualityFilter):
    default_reason = "gopher_quality"


_OTHER_LINE_BREAK = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")  # str.splitlines' breaks but "\n"


class C4Quality(ReasonedFilter, C4QualityFilter):
    """With `min_num_sentences` <= 1 the only question is "is any sentence left?", i.e. "is any kept line
    non-blank?": answering that from the kept text skips spaCy's sentencizer on every line, about a third
    of the filter stage's time. Same decisions as datatrove (tests/filters/test_heuristics.py), except that
    datatrove counts a blank line as a sentence and keeps documents left with blank lines only. With only
    the long-word and lorem-ipsum rules on, a text with neither skips datatrove's line loop (same text and
    stats: tests/filters/test_fast_paths.py)."""

    default_reason = "c4_quality"

    def __init__(self, *args, preserve_line_format: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # datatrove strips every line it keeps: a code block loses its indentation. With this on (and no
        # citation removal, the one rule that edits inside a line), kept lines stay exactly as they were.
        self.preserve_line_format = preserve_line_format and not self.remove_citations
        self._any_sentence_only = self.min_num_sentences in (0, 1)
        self._needs_a_sentence = self.min_num_sentences == 1
        if self._any_sentence_only:
            self.min_num_sentences = -1  # datatrove then skips the per-line sentence count
        # only the long-word line rule and the lorem-ipsum document rule on (the `documents` profile)
        self._whole_text_rules_only = (
            self.split_paragraph and not self.remove_citations and not self.filter_no_terminal_punct
            and self.min_words_per_line <= 0 and not self.filter_javascript and not self.filter_curly_bracket
            and not self.filter_policy and self.min_num_sentences == -1 and self.max_word_length >= -1)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        original = doc.text
        if (lines := self._every_line_kept(original)) is not None:
            # what datatrove's line loop does then, without its per-line Python and two stat updates per line
            # (most of this filter's time)
            self._count_stat("line-total", len(lines))
            self._count_stat("line-kept", len(lines))
            if (self.preserve_line_format and lines and lines[0].strip() and lines[-1].strip()
                    and not original.endswith("\n") and not _OTHER_LINE_BREAK.search(original)):
                # the line-format step below would put back every line: split on "\n" alone, the lines are
                # these, and with no blank line at either end, the kept text's strip() removed none of them
                return True
            doc.text = "\n".join(map(str.strip, lines)).strip()
            result = True
        else:
            result = super().filter(doc)
        if result is True and self._needs_a_sentence and not doc.text.strip():
            doc.text = original  # as datatrove: a dropped document is written out as it came in
            return False, "too_few_sentences"
        if result is True and self.preserve_line_format:
            kept = Counter(doc.text.split("\n"))
            out = []
            for line in original.split("\n"):
                if kept[line.strip()] > 0:
                    kept[line.strip()] -= 1
                    out.append(line)
            doc.text = "\n".join(out)
        return result

    def _every_line_kept(self, text: str) -> list[str] | None:
        """The text's lines if datatrove's loop keeps them all: only the whole-text rules are on and neither
        applies (a word never spans lines, every line break being whitespace; a line's lowercase is part of
        the text's lowercase)."""
        if not self._whole_text_rules_only:
            return None
        lines = text.splitlines()
        n = self.max_word_length
        if n != -1 and any(len(word) > n for line in lines if len(line) > n for word in line.split()):
            return None
        if self.filter_lorem_ipsum and "lorem ipsum" in text.lower():
            return None
        return lines

    def _count_stat(self, key: str, k: int) -> None:
        """`k` calls of stat_update(key) at once: datatrove's stats of k updates by 1."""
        if k:
            self.stats[key] += MetricStats(total=k, n=k, mean=1.0, min=1, max=1)


class FineWebQuality(ReasonedFilter, FineWebQualityFilter):
    default_reason = "fineweb_quality"


class ProseRepetition(OnProse, GopherRepetition):
    """Gopher's repetition rules on the prose: a manual repeating a command or a table header is not spam."""


class ProseFineWebQuality(OnProse, FineWebQuality):
    """FineWeb's line rules on the prose lines (headings and list items still count as lines)."""
