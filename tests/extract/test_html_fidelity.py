"""HTML structure survives extraction, on real pages: the real-document slice (DocBook, AsciiDoc, Texinfo,
SQLite's hand-written pages) scored per site by bench/html_fidelity.py's source-derived truth, and a Sphinx
page (sphinx-doc 5.3.0, Debian; BSD-2-clause, tests/data/realdocs/LICENSES/sphinx-doc.copyright)."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from bench.html_fidelity import GOALS, SITES, score, truth
from refinery.extract.html import extract_html
from refinery.extract.options import ExtractOptions

# trafilatura's Markdown (inline code in backticks, emphasis); the resiliparse engine: test_html_resiliparse.py
TRAFILATURA = ExtractOptions(html_engine="trafilatura")

DATA = Path(__file__).resolve().parent.parent / "data"


def _text(path: Path) -> str:
    return extract_html(path.read_bytes(), TRAFILATURA).text


@pytest.fixture(scope="module")
def per_site() -> dict:
    counts: dict = defaultdict(lambda: {k: [0, 0, 0] for k in (*GOALS, "pilcrows")})
    for path in sorted((DATA / "realdocs" / "raw").rglob("*.html")):
        if path.is_file():
            site = next((s for s in SITES if s in str(path)), "other")
            score(_text(path), truth(path.read_bytes()), counts[site])
    return counts


@pytest.mark.parametrize("goal", sorted(GOALS))
def test_structure_kept_on_every_site(per_site, goal):
    for site, counts in per_site.items():
        kept, present, _ = counts[goal]
        assert kept >= GOALS[goal] * present, f"{site} {goal}: {kept}/{present}"
    assert sum(c["code_blocks"][1] for c in per_site.values()) >= 50  # the slice does exercise it


def test_docbook_screen_keeps_its_lines():
    page = DATA / "realdocs" / "raw" / "2026-01-a" / "debian-reference" / "ch04.es.html"
    text = _text(page)
    blocks = re.findall(r"^```[\w+#-]*\n(.*?)\n```$", text, re.S | re.M)
    assert len(blocks) >= 4
    # /etc/passwd and /etc/shadow excerpts as the page shows them: one record per line
    assert any(re.search(r"^user1:x:1000:1000:.*\nuser2:x:1001:1001:", b, re.M) for b in blocks)


def test_docbook_table_becomes_a_markdown_table_with_its_header():
    page = DATA / "realdocs" / "raw" / "2026-01-a" / "debian-reference" / "ch04.es.html"
    lines = _text(page).splitlines()
    rules = [i for i, line in enumerate(lines) if re.match(r"^\|?(-{3,}\|)+-*\|?$", line.strip())]
    assert rules
    def cells(line: str) -> int:
        return len(re.findall(r"(?<!\\)\|", line))  # `\|` is a pipe inside a cell
    for i in rules:  # a header row above each rule, a data row with as many cells below
        assert cells(lines[i - 1]) == cells(lines[i]) == cells(lines[i + 1]), lines[i - 1:i + 2]


def test_sphinx_page_code_language_inline_code_and_no_permalinks():
    text = _text(DATA / "html" / "sphinx-quickstart.html")
    assert "```console\n$ sphinx-quickstart\n```" in text  # the language from highlight-console
    assert "```rst\n.. toctree::\n   :maxdepth: 2\n```" in text  # indentation kept
    assert "configuration file `conf.py`, where" in text  # inline code stays in its sentence
    assert "¶" not in text
    assert "# Getting Started\n" in text


def test_pre_inside_a_sentence_and_two_blocks_on_one_line():
    html = (b"<html><body><article><p>Intro paragraph with enough running words to count as the content.</p>"
            b"<p>Run this: <pre class='language-sql'>SELECT 1;\nSELECT 2;</pre> then check.</p>"
            b"<ul><li>mirrors: <pre>a\nb</pre><pre>c\nd</pre></li></ul>"
            b"<p>Another paragraph of running text, so that the page has a body. <code>git\nlog</code> too.</p>"
            b"</article></body></html>")
    text = extract_html(html, TRAFILATURA).text
    assert "```sql\nSELECT 1;\nSELECT 2;\n```" in text
    assert re.search(r"```\na\nb\n```\n+```\nc\nd\n```", text)
    assert "`git log` too" in text
    assert "refinerycodeblock" not in text
    assert sum(line.startswith("```") for line in text.splitlines()) % 2 == 0


def test_sphinx_table_inside_a_definition_list_keeps_its_rows():
    """Sphinx documents each method in a <dl> of its own; a table in its <dd> stays a Markdown table with its
    header row (trafilatura reads a <dd> as a list item and flattened the table into one line). The page:
    sphinx-doc 5.3.0's usage/advanced/websupport/api.html (Debian; BSD-2-clause)."""
    text = _text(DATA / "html" / "sphinx-websupport-api.html")
    assert re.search(r"^\| Key \| Contents \|\s*\n\|---\|---\|\s*\n\| text \| The comment text\. \|", text, re.M)
    assert "| username | The username that was stored with the comment. |" in text
    # the method's signature is a line of its own above its description; field lists stay lists
    assert re.search(r"^WebSupport\.get\\_data\(.*\)", text, re.M)
    assert "- **docname** – the name of the document to load." in text


def test_definition_list_without_a_table_stays_a_list():
    para = "<p>" + "Running text of a manual page about the configuration of a service. " * 8 + "</p>"
    dl = "<dl><dt>timeout</dt><dd><p>Seconds to wait before giving up on a slow peer.</p></dd></dl>"
    page = f"<html><body><article><h1>Settings</h1>{para}{dl}{para}</article></body></html>"
    text = extract_html(page.encode(), TRAFILATURA).text
    assert "- timeout\n- Seconds to wait before giving up on a slow peer." in text


def test_texinfo_definition_keeps_its_signature():
    """Octave's glpk, a real Texinfo `<dl class="def">` (octave-doc, GPL-3): the signature in its `<dt>` was
    dropped by trafilatura's fallback extractor, while the manual's PDF and DOCX print it."""
    page = DATA / "realdocs" / "raw" / "2026-01-b" / "octave" / "octave.html" / "Linear-Programming.html"
    text = _text(page)
    signature = "[`xopt`, `fmin`, `errnum`, `extra`\\] =* **glpk** *(`c`, `A`, `b`, `lb`, `ub`, `ctype`"
    assert re.search(r"^: \*\\\[", text, re.MULTILINE) and signature in text
    assert text.index("**glpk**") < text.index("Solve a linear program using the GNU GLPK library.")
    assert "If `sense` is 1, the problem is a minimization." in text  # the description is still there
    # @table's terms (the arguments) above their descriptions: 50 of its 98 terms were lost
    assert "`c`\n\nA column array containing the objective function coefficients." in text
    assert "`GLP_MSG_OFF`)" in text and "0 (`GLP_MSG_OFF`)" in text


def test_texinfo_table_keeps_its_terms():
    """Octave's Uitoolbar Properties (octave-doc, GPL-3): each property's name and values are the term of a
    `<dl compact>`; 11 of its 19 terms were lost (their text dropped, their inline code kept)."""
    text = _text(DATA / "realdocs" / "raw" / "2026-01-b" / "octave" / "octave.html" / "Uitoolbar-Properties.html")
    assert "`clipping`: `\"off\"` | {`\"on\"`}\n\nIf `clipping` is `\"on\"`, the uitoolbar is clipped" in text
    assert "`children` (read-only): vector of graphics handles, def. `[](0x1)`" in text


def test_short_texinfo_definitions_with_see_also_links_are_kept():
    """Texinfo 7's markup of Octave's Group Database Functions (written here after octave-doc's page): each
    definition is a signature, one sentence and a "See also" line of links, short enough that the definition
    list went whole as link-dense; the manual's cross-references are its content."""
    def definition(name: str, text: str, see: list[str]) -> str:
        links = ", ".join(f'<a class="ref" href="#index-{s}"><code class="code">{s}</code></a>' for s in see)
        return (f'<dl class="first-deftypefn"><dt class="deftypefn" id="index-{name}"><span class="category-def">: '
                f'</span><span><code class="def-type"><var class="var">grp_struct</var> =</code> <strong '
                f'class="def-name">{name}</strong> <code class="def-code-arguments">()</code><a class="copiable-link" '
                f'href="#index-{name}"> &para;</a></span></dt><dd><p>{text}</p><p><strong class="strong">See also:'
                f'</strong> {links}.</p></dd></dl>')
    intro = ("<p>Octave&rsquo;s group database functions return information in a structure with the following "
             "fields; in the descriptions of the following functions it is referred to as a grp_struct.</p>")
    page = ("<html><body><h3>Group Database Functions</h3>" + intro
            + definition("getgrent", "Return an entry from the group database, opening it if necessary.",
                         ["setgrent", "endgrent"])
            + definition("setgrent", "Return the internal pointer to the beginning of the group database.",
                         ["getgrent", "endgrent"])
            + definition("endgrent", "Close the group database.", ["getgrent", "setgrent"]) + "</body></html>")
    text = extract_html(page.encode(), TRAFILATURA).text
    for name, sentence in (("getgrent", "opening it if necessary."), ("setgrent", "beginning of the group database."),
                           ("endgrent", "Close the group database.")):
        assert f"**{name}** `()`" in text and sentence in text
    assert "**See also:** `getgrent`, `setgrent`." in text and "¶" not in text
