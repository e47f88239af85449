"""Hostile raw files, built cheaply: bombs are assembled from one compressed block repeated (no gigabytes
are ever written or compressed), PDFs and zips are laid out byte by byte where the libraries would refuse
to write something this broken."""
from __future__ import annotations

import gzip
import struct
import zipfile
import zlib
from pathlib import Path

MiB = 1024 * 1024


def gzip_bomb(path: Path, megabytes: int = 2048) -> Path:
    """`megabytes` MiB of zeros as concatenated gzip members (valid gzip), ~1 KiB each."""
    path.write_bytes(gzip.compress(bytes(MiB)) * megabytes)
    return path


def _deflated_zeros(megabytes: int) -> bytes:
    """A raw deflate stream of `megabytes` MiB of zeros: after a full flush the compressor starts afresh,
    so the block for one MiB can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(MiB)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + c.flush()


def _zip_one(name: str, payload: bytes, declared_size: int) -> bytes:
    """A zip archive of one deflated member whose headers declare `declared_size` (CRC left at 0)."""
    n = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(payload), declared_size, len(n), 0) + n
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(payload), declared_size,
                          len(n), 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(payload), 0)
    return local + payload + central + end


def zip_bomb(path: Path, megabytes: int = 2048) -> Path:
    """Declares its real size: caught from the central directory."""
    path.write_bytes(_zip_one("word/document.xml", _deflated_zeros(megabytes), megabytes * MiB))
    return path


def lying_zip_bomb(path: Path, megabytes: int = 2048, member: str = "word/document.xml") -> Path:
    """Declares 1 KB for `megabytes` MiB: zipfile would inflate all of it before cutting it to 1 KB."""
    path.write_bytes(_zip_one(member, _deflated_zeros(megabytes), 1000))
    return path


LAUGHS = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">' + "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)) + "]>\n"


def billion_laughs(office_file: Path, member: str, path: Path) -> Path:
    """A copy of a real Office file whose `member` declares the entities and uses the biggest one."""
    with zipfile.ZipFile(office_file) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                xml = data.decode()
                xml = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
                tag = next(t for t in ("<w:t>", "<a:t>", "<t>") if t in xml)
                data = (LAUGHS + xml.replace(tag, tag + "&lol9;", 1)).encode()
            dst.writestr(info, data)
    return path


def _pdf(objects: list[bytes]) -> bytes:
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def cyclic_pdf(path: Path) -> Path:
    """A page tree whose root lists itself among its kids."""
    content = b"BT /F1 12 Tf 72 712 Td (A page inside a loop) Tj ET"
    path.write_bytes(_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]))
    return path


def nested_tables(path: Path, depth: int = 200_000) -> Path:
    path.write_text("<html><body>" + "<table>" * depth + "deep" + "</table>" * depth + "</body></html>")
    return path
