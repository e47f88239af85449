"""datatrove's heuristic quality filters, unchanged except that every drop carries a reason; `Prose*` judge the
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

from refinery.filters.prose_quality import OnProse
from refinery.filters.reasons import ReasonedFilter


class GopherRepetition(ReasonedFilter, GopherRepetitionFilter):
    default_reason = "gopher_repetition"


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
