"""XLSX with openpyxl (read_only: rows are streamed; data_only: cached formula values, not formulas).
One document per workbook: a `## sheet` heading and a Markdown table per non-empty sheet."""
from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from refinery.extract.archive import check_zip
from refinery.extract.base import Extracted, ExtractionError, md_table
from refinery.extract.options import ExtractOptions


def _value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date().isoformat()  # a date cell: openpyxl reads every date as a datetime
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _sheet_rows(sheet, budget: int) -> list[list[str]]:
    """Non-empty rows with trailing empty cells cut; raises text_too_long once past the budget."""
    rows, size = [], 0
    for raw in sheet.iter_rows(values_only=True):
        row = [_value(v) for v in raw]
        while row and not row[-1].strip():
            row.pop()
        if not row:
            continue
        rows.append(row)
        size += sum(len(c) + 3 for c in row)
        if size > budget:  # a huge sheet would otherwise be rendered whole before the length check
            raise ExtractionError("text_too_long", f"sheet {sheet.title!r} renders to more than {budget} characters")
    return rows


def extract_xlsx(data: bytes, options: ExtractOptions) -> Extracted:
    check_zip(data, options)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:
        raise ExtractionError("parse_error", f"XLSX: {type(e).__name__}: {e}") from None
    try:
        parts, names, budget = [], [], options.max_text_chars
        for sheet in book.worksheets:
            rows = _sheet_rows(sheet, budget)
            names.append(sheet.title)
            if rows:
                table = md_table(rows)
                parts.append(f"## {sheet.title}\n\n{table}")
                budget -= len(table)
        title = book.properties.title
    except ExtractionError:
        raise
    except Exception as e:
        raise ExtractionError("parse_error", f"XLSX: {type(e).__name__}: {e}") from None
    finally:
        book.close()
    metadata: dict = {"sheets": names}
    if title:
        metadata["title"] = title
    return Extracted("\n\n".join(parts), metadata)
