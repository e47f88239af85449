"""The `documents` profile's text-quality filters: Gopher's rules, judged on a document's prose.

Gopher's published rules (datatrove's GopherQualityFilter, the `web` profile) count spaCy tokens, so every
comma, backtick, pipe and "#" is a "word without a letter": prose with inline code, a table or a command line
falls under the "80% of words have a letter" bar. Here the same rules run on `text_blocks.prose` (code,
tables, markup, URLs and paths stripped) with punctuation not counted as words. A document whose content is
mostly code or tables (a spreadsheet, a config reference) has too little prose to judge: only the length
rules apply to it, counted over all its words.
"""
from __future__ import annotations

import re
from collections import Counter

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter
from datatrove.utils.word_tokenizers import WordTokenizer

from refinery.filters.reasons import ReasonedFilter
from refinery.text_blocks import count_words, prose, words

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")  # Gopher's, as datatrove has them
# sqlite3_changegroup_delete, changes.html, getValue: names, not words; they would push the mean word length
# of a reference page over Gopher's 10 characters
_IDENTIFIER = re.compile(r"_|[a-z][A-Z]|\w\.\w")  # searched: a word has no newline, so the same as
# matching ".*(?:...)", without the backtracking


def quality_scores(text: str, stop_words=STOP_WORDS) -> dict:
    """The numbers the prose rules look at; also what `refinery explain` prints."""
    body = prose(text)
    # each distinct word judged once (a manual repeats its vocabulary), weighted by its count
    prose_counts = {w: c for w, c in Counter(words(body)).items() if not _IDENTIFIER.search(w)}
    n_prose = sum(prose_counts.values())
    lines = [line for line in body.split("\n") if line.strip()]
    text_lines = text.splitlines()
    n = max(n_prose, 1)
    return {
        "words": count_words(text),
        "prose_words": n_prose,
        "avg_word_length": round(sum(len(w) * c for w, c in prose_counts.items()) / n, 3),
        "hash_ratio": round(body.count("#") / n, 4),
        "ellipsis_ratio": round((body.count("...") + body.count("…")) / n, 4),
        "ellipsis_lines_ratio": round(sum(s.rstrip().endswith(("...", "…")) for s in lines) / max(len(lines), 1), 4),
        "bullet_lines_ratio": round(sum(s.lstrip().startswith(("•", "-")) for s in text_lines)
                                    / max(len(text_lines), 1), 4),
        "alpha_words_ratio": round(sum(c for w, c in prose_counts.items() if any(map(str.isalpha, w))) / n, 4),
        "stop_words": sorted(set(map(str.lower, prose_counts)) & set(stop_words)),
    }


class ProseQuality(ReasonedFilter, BaseFilter):
    name = "🥇 Gopher Quality (prose)"
    default_reason = "gopher_quality"

    def __init__(self, min_doc_words: int | None = 50, max_doc_words: int | None = 100_000,
                 min_avg_word_length: int | None = 3, max_avg_word_length: int | None = 10,
                 max_symbol_word_ratio: float | None = 0.1, max_bullet_lines_ratio: float | None = 0.9,
                 max_ellipsis_lines_ratio: float | None = 0.3, max_non_alpha_words_ratio: float | None = 0.8,
                 min_stop_words: int | None = 2, stop_words: list[str] | None = None, min_prose_words: int = 30,
                 exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        self.min_doc_words, self.max_doc_words = min_doc_words, max_doc_words
        self.min_avg_word_length, self.max_avg_word_length = min_avg_word_length, max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio, self.max_ellipsis_lines_ratio = max_bullet_lines_ratio, max_ellipsis_lines_ratio
        self.max_non_alpha_words_ratio, self.min_stop_words = max_non_alpha_words_ratio, min_stop_words
        self.stop_words = {w.lower() for w in (STOP_WORDS if stop_words is None else stop_words)}
        self.min_prose_words = min_prose_words

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        s = quality_scores(doc.text, self.stop_words)
        if self.min_doc_words and s["words"] < self.min_doc_words:
            return False, "gopher_short_doc"
        if self.max_doc_words and s["words"] > self.max_doc_words:
            return False, "gopher_long_doc"
        if self.max_bullet_lines_ratio and s["bullet_lines_ratio"] > self.max_bullet_lines_ratio:
            return False, "gopher_too_many_bullets"
        if s["prose_words"] < self.min_prose_words:
            return True  # code, tables or slides: too little prose for the ratios to mean anything
        if self.min_avg_word_length and s["avg_word_length"] < self.min_avg_word_length:
            return False, "gopher_below_avg_threshold"
        if self.max_avg_word_length and s["avg_word_length"] > self.max_avg_word_length:
            return False, "gopher_above_avg_threshold"
        if self.max_symbol_word_ratio and s["hash_ratio"] > self.max_symbol_word_ratio:
            return False, "gopher_too_many_hashes"
        if self.max_symbol_word_ratio and s["ellipsis_ratio"] > self.max_symbol_word_ratio:
            return False, "gopher_too_many_ellipsis"
        if self.max_ellipsis_lines_ratio and s["ellipsis_lines_ratio"] > self.max_ellipsis_lines_ratio:
            return False, "gopher_too_many_end_ellipsis"
        if self.max_non_alpha_words_ratio and s["alpha_words_ratio"] < self.max_non_alpha_words_ratio:
            return False, "gopher_below_alpha_threshold"
        if self.min_stop_words and len(s["stop_words"]) < self.min_stop_words:
            return False, "gopher_enough_stop_words"
        return True


class ProseWords(WordTokenizer):
    """`text_blocks.words` behind datatrove's word-tokenizer interface (a filter's `language` may be a
    tokenizer), for the datatrove rules the `documents` profile runs on prose: punctuation is not a word
    there, as in ProseQuality, and no filter worker pays spaCy's ~3 s load for one split."""

    def word_tokenize(self, text: str) -> list[str]:
        return words(text)

    def sent_tokenize(self, text: str) -> list[str]:
        raise NotImplementedError("ProseWords splits words only")

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError("ProseWords splits words only")


class OnProse(BaseFilter):
    """Mixin, placed before a datatrove filter: the filter sees the document's prose, and the document keeps
    its text. For filters that only read the text (repetition, FineWeb's line rules), never ones that rewrite it."""

    def __init__(self, *args, min_prose_words: int = 30, **kwargs):
        kwargs.setdefault("language", ProseWords())
        super().__init__(*args, **kwargs)
        self.min_prose_words = min_prose_words  # less prose is not judged (n-gram rules reject any short text)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        doc.text = prose(text)
        try:
            if len(words(doc.text)) < self.min_prose_words:  # the words repetition splits again: cached
                return True  # code, tables or slides: nothing to judge
            return super().filter(doc)
        finally:
            doc.text = text
