"""Decompression-bomb guards: zip-based Office files are checked from the central directory before any
library parses them; gzip is decompressed as a stream that stops at the limits."""
from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from typing import BinaryIO

from refinery.extract.base import ExtractionError
from refinery.extract.options import MiB, ExtractOptions

# Ratios are only meaningful past this size: a small file of repeated bytes compresses very well.
_RATIO_FLOOR = MiB


def _check_sizes(uncompressed: int, compressed: int, options: ExtractOptions, what: str) -> None:
    if uncompressed > options.max_uncompressed_bytes:
        limit = options.max_uncompressed_bytes
        raise ExtractionError("decompression_bomb", f"{what} expands to more than {limit} bytes")
    if uncompressed > _RATIO_FLOOR and uncompressed > options.max_compression_ratio * max(compressed, 1):
        raise ExtractionError("decompression_bomb", f"{what} compression ratio above {options.max_compression_ratio:g}")


def check_zip(data: bytes, options: ExtractOptions) -> None:
    """Raises unless `data` is a zip whose declared sizes pass the limits. The declared sizes can be
    trusted: zipfile stops reading a member at its declared size and then fails the CRC check."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception as e:  # BadZipFile, or struct/EOF errors from a garbled central directory
        raise ExtractionError("not_a_zip", f"not a zip archive ({e})") from None
    for m in members:
        _check_sizes(m.file_size, m.compress_size, options, f"zip member {m.filename!r}")
    _check_sizes(sum(m.file_size for m in members), sum(m.compress_size for m in members), options, "zip archive")


def zip_content_types(data: bytes) -> str:
    """The [Content_Types].xml of an OOXML package (how Office names its own format), or ""."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MiB:
                return ""
            return archive.read(info).decode("utf-8", "replace")
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
        try:
            n = self._gzip.readinto(buffer)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise ExtractionError("corrupt_gzip", f"gzip stream: {e}") from None
        self.count += n
        _check_sizes(self.count, self._compressed.count, self._options, "gzip stream")
        return n


def gunzip(raw: BinaryIO, options: ExtractOptions) -> BinaryIO:
    """A streaming, buffered view of the decompressed bytes that raises ExtractionError at the limits."""
    return io.BufferedReader(_BoundedGunzip(raw, options), buffer_size=256 * 1024)
