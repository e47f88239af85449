"""HTML: trafilatura keeps the main content (navigation, footers, cookie banners dropped) as Markdown,
so headings, lists, tables and code blocks survive.

`bare_extraction` with formatting on yields the same text as `extract(output_format="markdown")` and the
page title from the same parse."""
from __future__ import annotations

import logging

from trafilatura import bare_extraction
from trafilatura.settings import set_date_params

from refinery.extract.base import Extracted, ExtractionError
from refinery.extract.options import ExtractOptions

# trafilatura logs a warning for every page it finds nothing in; the quarantine manifest says it once.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def extract_html(data: bytes, options: ExtractOptions) -> Extracted:
    try:
        # bytes, not str: trafilatura reads the page's declared charset itself
        document = bare_extraction(
            data, include_formatting=True, include_comments=False, with_metadata=True,
            include_tables=options.html_include_tables, include_links=options.html_include_links,
            favor_precision=options.html_favor_precision, as_dict=False,
            date_extraction_params=set_date_params(extensive=False),  # the slow date search buys nothing here
        )
    except RecursionError:  # absurdly nested markup
        raise ExtractionError("parse_error", "HTML too deeply nested") from None
    except Exception as e:
        raise ExtractionError("parse_error", f"HTML: {type(e).__name__}: {e}") from None
    if document is None or not (document.text or "").strip():
        raise ExtractionError("empty", "no main content found in the HTML")
    metadata = {"title": document.title} if document.title else {}
    return Extracted(document.text, metadata)
