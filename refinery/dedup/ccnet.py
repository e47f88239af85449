"""Exact-document and CCNet paragraph deduplication as a streaming datatrove block (either or both).

CCNet (Wenzek et al.) hashes every normalised paragraph with the first 64 bits of SHA-1 and drops the
repeats. We do the same, against this drop and every earlier drop's index, so the earliest copy wins, with
three rules for documents that are not web pages: a paragraph is removed only when *another* document had
it (a field description repeated 52 times inside one protocol reference stays); only prose paragraphs are
candidates (`text_blocks.line_kinds`): code, terminal sessions, table rows and indented blocks (in a plain
text file also AsciiDoc's literal paragraphs, indented by any amount after a blank line) are never cut out,
however many manuals share them ("Traceback (most recent call last):", "$ make install"); and a paragraph is a run of prose lines (`text_blocks.paragraphs`), so a hard-wrapped text file loses a whole
repeated paragraph or nothing, never one line of a sentence.
Run it as a single task over a drop: the document order (sorted files, line order) is what makes the
result deterministic.
"""
from __future__ import annotations

import contextlib
import hashlib
import struct

from datatrove.data import DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter
from refinery.dedup.hash_index import HashSet, load_hashes, save_hashes
from refinery.dedup.minhash_fast import simplify_text_fast
from refinery.text_blocks import line_kinds, paragraphs


def sha1_64(text: str) -> int:
    return struct.unpack("<Q", hashlib.sha1(text.encode("utf-8")).digest()[:8])[0]


def paragraph_key(paragraph: str) -> int:
    # datatrove's simplify_text is CCNet's normalisation: lowercase, digits -> 0, no punctuation/accents;
    # simplify_text_fast gives the same string without its per-character loop (3x on the realdocs paragraphs)
    return sha1_64(simplify_text_fast(paragraph))


class ExactParagraphDedup(PipelineStep):
    type = "🫂 - DEDUP"
    name = "#️⃣ exact + CCNet paragraphs"

    def __init__(
        self,
        index_folder: DataFolderLike,
        drop: str,
        earlier_drops: list[str],
        exact: bool = True,
        paragraphs: bool = True,
        min_paragraph_chars: int = 20,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__()
        self.index = get_datafolder(index_folder)
        self.drop, self.earlier = drop, list(earlier_drops)
        self.exact, self.paragraphs, self.min_chars = exact, paragraphs, min_paragraph_chars
        self.exclusion_writer = exclusion_writer

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError("ExactParagraphDedup must run as one task so the earliest copy wins deterministically")
        docs = HashSet(load_hashes(self.index, [f"exact/{d}" for d in self.earlier]))
        paras = HashSet(load_hashes(self.index, [f"paragraph/{d}" for d in self.earlier]))
        with self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext() as writer:
            for doc in data:
                self.stat_update("total")
                reason = None
                if self.exact and not docs.add_if_new(sha1_64(doc.text.strip())):
                    reason = "exact_duplicate"
                elif self.paragraphs:
                    removed, own = 0, set()
                    lines = doc.text.split("\n")
                    drop_lines: set[int] = set()
                    # plain text (AsciiDoc) marks literal paragraphs by any indentation; Markdown does not
                    kinds = line_kinds(lines, literal_paragraphs=doc.metadata.get("format") == "text")
                    for start, end in paragraphs(lines, kinds):
                        paragraph = " ".join(line.strip() for line in lines[start:end])
                        if len(paragraph) < self.min_chars:
                            continue
                        key = paragraph_key(paragraph)
                        if key in paras:  # another document had it first
                            removed += 1
                            drop_lines.update(range(start, end))
                        else:
                            own.add(key)
                    kept = [line for i, line in enumerate(lines) if i not in drop_lines]
                    for key in own:  # registered after the document: its own repeats are not duplicates
                        paras.add_if_new(key)
                    if removed:
                        self.stat_update("paragraphs_removed", value=removed)
                        doc.metadata["duplicate_paragraphs_removed"] = removed
                        doc.text = "\n".join(kept).strip()
                        if not doc.text:
                            reason = "all_paragraphs_duplicate"
                if reason:
                    self.stat_update("dropped", f"dropped_{reason}")
                    if writer:
                        doc.metadata["filter_reason"] = reason
                        writer.write(doc, rank)
                    continue
                self.stat_update("forwarded")
                yield doc
        # the index is written only after the whole drop went through, so a killed run leaves none
        if self.exact:
            save_hashes(self.index, f"exact/{self.drop}", docs.current)
        if self.paragraphs:
            save_hashes(self.index, f"paragraph/{self.drop}", paras.current)
