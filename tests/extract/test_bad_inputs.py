"""Every bad input fails with its reason code, as an ExtractionError and never as a library exception."""
import gzip
import time

import pytest

from refinery.extract import REASONS, ExtractOptions, ExtractionError, extract_bytes
from tests import builders


def reason_of(path, options=None) -> str:
    with pytest.raises(ExtractionError) as err:
        extract_bytes(path.name, path.read_bytes(), options)
    assert err.value.reason in REASONS and err.value.message
    return err.value.reason


@pytest.mark.parametrize("builder, reason", builders.BAD.items(), ids=[b.__name__ for b in builders.BAD])
def test_bad_input_reason(tmp_path, builder, reason):
    assert reason_of(builder(tmp_path)) == reason


@pytest.mark.parametrize("name", ["bomb.docx", "bomb.xlsx"])
def test_zip_bomb_rejected_from_central_directory(bomb_dir, name):
    path = bomb_dir / name
    assert path.stat().st_size < 1_000_000  # 300 MB of zeros, deflated
    import refinery.extract.sheets, refinery.extract.word  # noqa: E401,F401  parsers load lazily: not timed
    start = time.monotonic()
    assert reason_of(path) == "decompression_bomb"
    assert time.monotonic() - start < 1  # nothing was decompressed


def test_zip_bomb_below_size_limit_still_caught_by_ratio(tmp_path):
    path = builders.zip_bomb(tmp_path, "small-bomb.pptx", megabytes=20)
    assert reason_of(path) == "decompression_bomb"
    options = ExtractOptions(max_compression_ratio=100_000)  # let it through: python-pptx then fails on it
    assert reason_of(path, options) == "parse_error"


def test_gzip_bomb_stopped_while_streaming(bomb_dir):
    assert reason_of(bomb_dir / "bomb.txt.gz") == "decompression_bomb"


def test_gzip_size_cap(tmp_path):
    path = tmp_path / "big.txt.gz"
    path.write_bytes(gzip.compress(b"some text, " * 300_000))  # 3.3 MB, compresses ~100x
    options = ExtractOptions(max_uncompressed_bytes=1_000_000)
    assert reason_of(path, options) == "decompression_bomb"


def test_corrupt_and_truncated_gzip(tmp_path):
    data = gzip.compress(b'{"text": "a"}\n' * 1000)
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.txt.gz").write_bytes(b"not gzip at all")
    assert reason_of(tmp_path / "cut.jsonl.gz") == "corrupt_gzip"
    assert reason_of(tmp_path / "junk.txt.gz") == "corrupt_gzip"


def test_deeply_nested_html_is_quarantined_not_emptied(tmp_path):
    assert reason_of(builders.nested_html(tmp_path, depth=100_000)) == "too_deeply_nested"
    # 200 levels is absurd but within libxml2's limit: extracted as usual
    page = "<html><body>" + "<div>" * 200 + "Deep but whole. " * 20 + "</div>" * 200 + "</body></html>"
    assert "Deep but whole." in extract_bytes("deep.html", page.encode())[0].text


def test_recursion_in_html_parser_becomes_parse_error(tmp_path, monkeypatch):
    import refinery.extract.html as html_module

    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(html_module, "bare_extraction", explode)  # either engine
    monkeypatch.setattr(html_module, "resiliparse_text", explode)
    assert reason_of(builders.html_page(tmp_path)) == "parse_error"


def test_unexpected_library_error_is_wrapped(tmp_path, monkeypatch):
    import refinery.extract.dispatch as dispatch

    monkeypatch.setitem(dispatch._WHOLE_FILE, "markdown", lambda data, options: 1 / 0)
    assert reason_of(builders.markdown(tmp_path)) == "parse_error"


def test_text_limits(tmp_path):
    path = builders.markdown(tmp_path)
    assert reason_of(path, ExtractOptions(max_text_chars=10)) == "text_too_long"
    assert reason_of(path, ExtractOptions(min_text_chars=10_000)) == "empty"
    assert reason_of(path, ExtractOptions(max_file_bytes=5)) == "file_too_large"


def test_single_json_object_without_text_and_json_scalar(tmp_path):
    (tmp_path / "a.json").write_text('{"title": "no body"}')
    (tmp_path / "b.json").write_text('"just a string"')
    assert reason_of(tmp_path / "a.json") == "missing_text_field"
    assert reason_of(tmp_path / "b.json") == "missing_text_field"


def test_office_zip_that_is_another_format(tmp_path):
    xlsx = builders.xlsx_book(tmp_path)
    renamed = tmp_path / "actually-xlsx.docx"
    renamed.write_bytes(xlsx.read_bytes())
    assert reason_of(renamed) == "parse_error"


def test_options_reject_unknown_fields():
    with pytest.raises(ValueError):
        ExtractOptions(max_file_byte=1)
