"""datatrove's distribution check answered from one scan gives the answers its own scan gives; loguru's
library paths, cached, are the same paths."""
from __future__ import annotations

from datatrove.utils import _import_utils

from refinery.runners.run_overheads import cache_log_library_dirs, check_distributions_once

NAMES = ["tokenizers", "fasttext-numpy2-wheel", "fasttext", "Tokenizers", "orjson", "no-such-distribution", ""]


def test_one_scan_answers_like_datatrove(monkeypatch):
    current = _import_utils._is_distribution_available
    original = getattr(current, "replaces", current)  # another test's local runner may have replaced it
    expected = {name: original.__wrapped__(name) for name in NAMES}  # uncached: a fresh scan each
    monkeypatch.setattr(_import_utils, "_is_distribution_available", original)  # restored afterwards
    check_distributions_once()
    patched = _import_utils._is_distribution_available
    assert patched is not original and patched.scans_once
    assert {name: patched(name) for name in NAMES} == expected
    assert expected["tokenizers"] is True and expected["no-such-distribution"] is None
    check_distributions_once()  # a second call keeps the first scan
    assert _import_utils._is_distribution_available is patched
    _import_utils.check_required_dependencies("JsonlReader", ["orjson"])  # datatrove's caller uses it


def test_cached_library_dirs_are_loguru_s(monkeypatch):
    from loguru._better_exceptions import ExceptionFormatter

    current = ExceptionFormatter._get_lib_dirs
    original = getattr(current, "__wrapped__", current)
    monkeypatch.setattr(ExceptionFormatter, "_get_lib_dirs", staticmethod(original))  # restored afterwards
    cache_log_library_dirs()
    assert hasattr(ExceptionFormatter._get_lib_dirs, "cache_info")
    assert ExceptionFormatter._get_lib_dirs() == original()
