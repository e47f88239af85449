"""PPTX with python-pptx: per slide a `## Slide N: title` heading (the separator), then its text frames
and tables (groups included), then the speaker notes, which often hold the actual prose."""
from __future__ import annotations

import io

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from refinery.extract.archive import check_zip
from refinery.extract.base import Extracted, ExtractionError, md_table
from refinery.extract.options import ExtractOptions


def _frame_text(frame) -> str:
    # python-pptx renders a soft line break as "\v"
    return "\n".join(p.text.replace("\v", "\n").strip() for p in frame.paragraphs if p.text.strip())


def _shapes(shapes):
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _slide(number: int, slide) -> str:
    title_shape = slide.shapes.title
    title = _frame_text(title_shape.text_frame).replace("\n", " ") if title_shape is not None else ""
    parts = [f"## Slide {number}: {title}" if title else f"## Slide {number}"]
    for shape in _shapes(slide.shapes):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        if shape.has_text_frame:
            parts.append(_frame_text(shape.text_frame))
        elif getattr(shape, "has_table", False) and shape.has_table:
            parts.append(md_table([[cell.text for cell in row.cells] for row in shape.table.rows]))
    if slide.has_notes_slide and (frame := slide.notes_slide.notes_text_frame) is not None:
        if notes := _frame_text(frame):
            parts.append(f"Notes: {notes}")
    return "\n\n".join(p for p in parts if p)


def extract_pptx(data: bytes, options: ExtractOptions) -> Extracted:
    check_zip(data, options)
    try:
        deck = Presentation(io.BytesIO(data))
        slides = [_slide(n, slide) for n, slide in enumerate(deck.slides, 1)]
        title = deck.core_properties.title
    except Exception as e:
        raise ExtractionError("parse_error", f"PPTX: {type(e).__name__}: {e}") from None
    metadata: dict = {"slides": len(slides)}
    if title:
        metadata["title"] = title
    return Extracted("\n\n".join(slides), metadata)
