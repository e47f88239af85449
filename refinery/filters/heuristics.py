"""datatrove's heuristic quality filters with their decisions unchanged, except that every drop carries a reason
(Gopher repetition is recomputed with cheaper counting, C4's sentence rule with a shortcut); `Prose*` judge the
document's prose only (the `documents` profile)."""
from __future__ import annotations

from collections import Counter

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.text import split_into_words

from refinery.filters.prose_quality import OnProse
from refinery.filters.reasons import ReasonedFilter


class GopherRepetition(ReasonedFilter, GopherRepetitionFilter):
    """datatrove's rules and decisions, computed with C-level counting (set/Counter/map over n-grams built by
    zip) instead of its per-n-gram Python loops: about a third of its time. tests/filters/test_heuristics.py
    checks every helper against datatrove's own on real documents."""

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
        words = split_into_words(text, self.language)
        for n, n_frac in self.top_n_grams:
            top_char_length = find_top_duplicate(words, n)
            if top_char_length is not None and top_char_length / len(text) > n_frac:
                return False, f"top_{n}_gram"
        for n, n_frac in self.dup_n_grams:
            if all_duplicates_over(words, n, n_frac, len(text)):
                return False, f"duplicated_{n}_n_grams"
        return True


def find_duplicates(x: list[str]) -> tuple[int, int]:
    """datatrove's find_duplicates: elements (and their characters) after their first occurrence."""
    unique = set(x)
    return len(x) - len(unique), sum(map(len, x)) - sum(map(len, unique))


def _n_grams(words: list[str], n: int, sep: str) -> list[str]:
    return list(map(sep.join, zip(*(words[i:] for i in range(n)))))


def find_top_duplicate(words: list[str], n: int) -> int | None:
    """datatrove's find_top_duplicate(get_n_grams(words, n)): characters of the most frequent n-gram times
    its count (the first one seen on ties, as Counter.most_common); None without n-grams."""
    grams = _n_grams(words, n, " ")
    if not grams:
        return None
    gram, count = Counter(grams).most_common(1)[0]
    return len(gram) * count


def all_duplicates_over(words: list[str], n: int, frac: float, text_len: int) -> bool:
    """datatrove's `find_all_duplicate(words, n) / text_len > frac`. Its scan jumps over an n-gram after a
    repeat, so it counts at most the characters of every n-gram seen before: when that bound (counted in C)
    is within the limit, the scan cannot exceed it either and is skipped."""
    grams = _n_grams(words, n, "")  # datatrove joins n-gram words without a separator
    if (sum(map(len, grams)) - sum(map(len, set(grams)))) / text_len <= frac:
        return False
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


class C4Quality(ReasonedFilter, C4QualityFilter):
    """With `min_num_sentences` <= 1 the only question is "is any sentence left?", i.e. "is any kept line
    non-blank?": answering that from the kept text skips spaCy's sentencizer on every line, about a third
    of the filter stage's time. Same decisions as datatrove (tests/filters/test_heuristics.py), except that
    datatrove counts a blank line as a sentence and keeps documents left with blank lines only."""

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

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        original = doc.text
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


class FineWebQuality(ReasonedFilter, FineWebQualityFilter):
    default_reason = "fineweb_quality"


class ProseRepetition(OnProse, GopherRepetition):
    """Gopher's repetition rules on the prose: a manual repeating a command or a table header is not spam."""


class ProseFineWebQuality(OnProse, FineWebQuality):
    """FineWeb's line rules on the prose lines (headings and list items still count as lines)."""
