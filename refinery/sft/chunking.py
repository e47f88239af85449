"""Deduplicated corpus documents -> chunks that each ground one generation.

Paragraph-aligned: paragraphs are packed up to `max_chars`; a paragraph longer than that is cut at
sentence ends. Chunk ids hash the document id and the chunk text, so re-chunking an unchanged corpus
yields the same ids (and the same LLM requests, which the cache then answers for free).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pydantic import Field

from refinery.filters.pii import redact_pii
from refinery.llmdata.records import Chunk, stable_id
from refinery.options import StrictOptions

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class ChunkOptions(StrictOptions):
    max_chars: int = Field(1500, gt=100)
    min_chars: int = Field(200, ge=0)  # shorter chunks (a lone heading, a footer) ground nothing useful
    max_chunks_per_document: int | None = 20
    # redact PII before text can reach an LLM: "auto" = only when the backend is an external API
    pii_redaction: str = Field("auto", pattern="^(auto|always|never)$")


def _pieces(paragraph: str, max_chars: int) -> Iterator[str]:
    if len(paragraph) <= max_chars:
        yield paragraph
        return
    piece = ""
    for sentence in _SENTENCE_END.split(paragraph):
        if piece and len(piece) + len(sentence) + 1 > max_chars:
            yield piece
            piece = ""
        piece = f"{piece} {sentence}".strip()
        while len(piece) > max_chars:  # a "sentence" longer than a chunk: cut it hard
            yield piece[:max_chars]
            piece = piece[max_chars:]
    if piece:
        yield piece


def chunk_text(text: str, max_chars: int) -> list[str]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks, current = [], ""
    for paragraph in paragraphs:
        for piece in _pieces(paragraph, max_chars):
            if current and len(current) + len(piece) + 2 > max_chars:
                chunks.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def chunk_documents(documents: Iterable[dict], options: ChunkOptions, redact: bool, drop: str = "") -> Iterator[Chunk]:
    """`documents` are datatrove dicts (id, text, metadata.source)."""
    for doc in documents:
        text = redact_pii(doc["text"])[0] if redact else doc["text"]
        pieces = [c for c in chunk_text(text, options.max_chars) if len(c) >= options.min_chars]
        for index, piece in enumerate(pieces[:options.max_chunks_per_document]):
            yield Chunk(id=stable_id(doc["id"], piece), doc_id=doc["id"], index=index, text=piece, drop=drop,
                        source=(doc.get("metadata") or {}).get("source", ""))
