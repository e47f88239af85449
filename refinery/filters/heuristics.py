"""datatrove's heuristic quality filters, unchanged except that every drop carries a reason."""
from __future__ import annotations

from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

from refinery.filters.reasons import ReasonedFilter


class GopherRepetition(ReasonedFilter, GopherRepetitionFilter):
    default_reason = "gopher_repetition"


class GopherQuality(ReasonedFilter, GopherQualityFilter):
    default_reason = "gopher_quality"


class C4Quality(ReasonedFilter, C4QualityFilter):
    default_reason = "c4_quality"


class FineWebQuality(ReasonedFilter, FineWebQualityFilter):
    default_reason = "fineweb_quality"
