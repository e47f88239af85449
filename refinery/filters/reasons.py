"""Every drop gets a reason: it is written to the dropped document's metadata["filter_reason"] and counted as
`dropped_<reason>`. datatrove filters may return a bare False; this mixin turns that into (False, name)."""
from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result


class ReasonedFilter(BaseFilter):
    """Mixin, placed before a datatrove filter: `class X(ReasonedFilter, SomeFilter)`."""

    default_reason: str = "filtered"  # subclasses set the filter's short name

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        out = []
        for result in super().filter_batch(batch):
            keep, reason = get_filter_result(result)
            # datatrove filters can return truthy/falsy non-bools (LanguageFilter returns lists or None)
            out.append(True if keep else (False, reason or self.default_reason))
        return out
