"""Decompression-bomb guards. Both containers are decompressed in 1 MiB steps with the limits checked after
each step, so a bomb costs about one step of memory before it is stopped: gzip as a stream, zip-based Office
files member by member before any library parses them."""
from __future__ import annotations

import copy
import gzip
import io
import zipfile
import zlib
from typing import BinaryIO

from refinery.extract.base import ExtractionError
from refinery.extract.options import MiB, ExtractOptions

# Ratios are only meaningful past this size: a small file of repeated bytes compresses very well.
_RATIO_FLOOR = MiB
# Decompressed per step. One big read would inflate everything asked for before any check could run.
_STEP = MiB
# A DTD entity declaration: OOXML parts never need one, billion-laughs files are built from them.
_ENTITY = b"<!ENTITY"


def _check_sizes(uncompressed: int, compressed: int, options: ExtractOptions, what: str) -> None:
    if uncompressed > options.max_uncompressed_bytes:
        limit = options.max_uncompressed_bytes
        raise ExtractionError("decompression_bomb", f"{what} expands to more than {limit} bytes")
    if uncompressed > _RATIO_FLOOR and uncompressed > options.max_compression_ratio * max(compressed, 1):
        raise ExtractionError("decompression_bomb", f"{what} compression ratio above {options.max_compression_ratio:g}")


def check_zip(data: bytes, options: ExtractOptions, keep_xml: bool = False) -> dict[str, bytes]:
    """Raises unless `data` is a zip whose members pass the limits. Declared sizes are checked first (free);
    then every member is inflated step by step and may not exceed its declared size: zipfile only cuts a
    member at that size after inflating all of it in one call (`read()` asks for up to 2 GiB), so a
    member lying about its size would otherwise blow up inside python-docx/openpyxl. XML parts are
    scanned for entity declarations on the way. With `keep_xml`, returns the inflated XML parts (.xml, .rels)
    by member name, so that a reader need not inflate them a second time."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception as e:  # BadZipFile, or struct/EOF errors from a garbled central directory
        raise ExtractionError("not_a_zip", f"not a zip archive ({e})") from None
    with archive:
        for m in members:
            _check_sizes(m.file_size, m.compress_size, options, f"zip member {m.filename!r}")
        _check_sizes(sum(m.file_size for m in members), sum(m.compress_size for m in members), options, "zip archive")
        kept = {}
        for m in members:
            if not m.is_dir():
                xml = _inflate_member(archive, m, keep_xml)
                if xml is not None:
                    kept[m.filename] = xml
    return kept


def _inflate_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, keep_xml: bool) -> bytes | None:
    unbounded = copy.copy(member)
    unbounded.file_size = 2**63  # so zipfile does not truncate: the real size is what is being measured
    xml = member.filename.lower().endswith((".xml", ".rels"))
    size, tail, chunks = 0, b"", []
    try:
        with archive.open(unbounded) as stream:
            while chunk := stream.read(_STEP):
                size += len(chunk)
                if size > member.file_size:
                    raise ExtractionError("decompression_bomb", f"zip member {member.filename!r} expands past "
                                                                f"its declared {member.file_size} bytes")
                if xml and _ENTITY in tail + chunk:
                    raise ExtractionError("xml_entities", f"zip member {member.filename!r} declares XML entities")
                tail = chunk[-len(_ENTITY):]
                if xml and keep_xml:
                    chunks.append(chunk)
    except ExtractionError:
        raise
    except Exception as e:  # CRC mismatch, unsupported compression or encryption, truncated data
        raise ExtractionError("parse_error", f"zip member {member.filename!r}: {type(e).__name__}: {e}") from None
    return b"".join(chunks) if xml and keep_xml else None


def zip_content_types(data: bytes) -> str:
    """The [Content_Types].xml of an OOXML package (how Office names its own format), or ""."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MiB:
                return ""
            with archive.open(info) as member:  # read(n) inflates at most n: the declared size may lie
                return member.read(MiB).decode("utf-8", "replace")
    except Exception:  # missing member or any damage: the caller treats "" as unknown
        return ""


class _CountingReader(io.RawIOBase):
    """Counts the compressed bytes gzip has consumed, for the ratio check."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.raw.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.count += len(chunk)
        return len(chunk)


class _BoundedGunzip(io.RawIOBase):
    def __init__(self, raw: BinaryIO, options: ExtractOptions):
        self._compressed = _CountingReader(raw)
        self._gzip = gzip.GzipFile(fileobj=self._compressed, mode="rb")
        self._options, self.count = options, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:  # one step at a time, however much the caller asked for: the checks run in between
            n = self._gzip.readinto(memoryview(buffer)[:_STEP])
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise ExtractionError("corrupt_gzip", f"gzip stream: {e}") from None
        self.count += n
        _check_sizes(self.count, self._compressed.count, self._options, "gzip stream")
        return n


def gunzip(raw: BinaryIO, options: ExtractOptions) -> BinaryIO:
    """A streaming, buffered view of the decompressed bytes that raises ExtractionError at the limits."""
    return io.BufferedReader(_BoundedGunzip(raw, options), buffer_size=256 * 1024)
