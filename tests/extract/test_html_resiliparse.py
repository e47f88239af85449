"""The `resiliparse` HTML engine (extract.html_engine) on real pages of the real-document slice: code blocks
verbatim, tables as Markdown with their rows, content lists kept, navigation dropped; and the config check."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from bench.html_fidelity import GOALS, SITES, score, truth
from refinery.config_check import config_problems
from refinery.extract.html import extract_html
from refinery.extract.options import ExtractOptions

RAW = Path(__file__).resolve().parent.parent / "data" / "realdocs" / "raw"
RESILIPARSE = ExtractOptions(html_engine="resiliparse")


def _text(path: Path) -> str:
    return extract_html(path.read_bytes(), RESILIPARSE).text


def test_code_block_kept_verbatim_with_its_indentation():
    text = _text(RAW / "2026-01-a" / "git-doc" / "git-bisect.html")
    assert ("```\ngit bisect start [--term-{new,bad}=<term> --term-{old,good}=<term>]\n"
            "                 [--no-checkout] [--first-parent] [<bad> [<good>...]] [--] [<paths>...]\n"
            "git bisect (bad|new|<term-new>) [<rev>]\n") in text
    assert "refinerycodeblock" not in text
    assert sum(line.startswith("```") for line in text.splitlines()) % 2 == 0
    assert text.startswith("## SYNOPSIS")  # headings keep their Markdown level


def test_docbook_table_rows_as_a_markdown_table():
    lines = _text(RAW / "2026-01-a" / "debian-reference" / "ch04.es.html").splitlines()
    rules = [i for i, line in enumerate(lines) if re.match(r"^\|?(-{3,}\|)+-*\|?$", line.strip())]
    assert rules

    def cells(line: str) -> int:
        return len(re.findall(r"(?<!\\)\|", line))
    for i in rules:  # a header row above each rule, data rows with as many cells below (a one-row table has none)
        below = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("|") else lines[i]
        assert cells(lines[i - 1]) == cells(lines[i]) == cells(below), lines[i - 1:i + 2]
    assert sum(i + 1 < len(lines) and lines[i + 1].startswith("|") for i in rules) >= 3
    assert not any("refinerytable" in line for line in lines)


def test_content_list_kept_navigation_dropped():
    sqlite = _text(RAW / "2026-01-a" / "sqlite3" / "releaselog" / "3_22_0.html")
    assert "SQLite Release 3.22.0 On 2018-01-22" in sqlite
    assert "Added the rtreecheck() scalar SQL function to the R-Tree extension." in sqlite
    lines = {line.strip("-•* ").strip() for line in sqlite.splitlines()}
    assert not lines & {"Home", "About", "Documentation", "Download", "Purchase"}  # the site menu
    octave = _text(RAW / "2026-01-b" / "octave" / "octave.html" / "Statements.html")
    assert "The list of statements contained between keywords like `if` or `while`" in octave  # inline code
    assert "The switch Statement" not in octave  # the Texinfo section menu, a list of links
    # a bulleted list of content (not links) is kept, which resiliparse alone drops outside an article
    git = _text(RAW / "2026-01-a" / "git-doc" / "git-bisect.html")
    assert "- Look for a fix instead of a regression in the code" in git


def test_structure_goals_on_every_site_of_the_slice():
    counts: dict = defaultdict(lambda: {k: [0, 0, 0] for k in (*GOALS, "pilcrows")})
    for path in sorted(RAW.rglob("*.html")):
        if path.is_file():
            site = next((s for s in SITES if s in str(path)), "other")
            score(_text(path), truth(path.read_bytes()), counts[site])
    for site, c in counts.items():
        for goal, share in GOALS.items():
            kept, present, _ = c[goal]
            assert kept >= share * present, f"{site} {goal}: {kept}/{present}"
    assert sum(c["code_blocks"][1] for c in counts.values()) >= 50
    assert sum(c["tables"][1] for c in counts.values()) >= 5


def test_page_without_main_content_is_empty():
    from refinery.extract.base import ExtractionError

    with pytest.raises(ExtractionError) as e:
        extract_html(b"<html><body><nav><ul><li><a href='/'>Home</a></li></ul></nav></body></html>", RESILIPARSE)
    assert e.value.reason == "empty"


def test_config_check_names_the_engines(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extract:\n  html_engine: readability\n")
    assert config_problems(bad) == [f"config {bad}: extract.html_engine: input should be 'trafilatura' or "
                                    f"'resiliparse' (got 'readability')"]
    good = tmp_path / "good.yaml"
    good.write_text("extract:\n  html_engine: resiliparse\n")
    assert config_problems(good) == []
    assert ExtractOptions().html_engine == "resiliparse"
    precision = tmp_path / "precision.yaml"  # trafilatura's own setting, with the engine that ignores it
    precision.write_text("extract:\n  html_favor_precision: true\n")
    assert config_problems(precision) == [f"config {precision}: extract: html_favor_precision is a setting of "
                                          f"html_engine: trafilatura, which is not selected (html_engine: resiliparse)"]
