"""The filters' fast paths decide as the code they replaced -- datatrove's repetition helpers and filter, the
whole bad-words alternation, the identifier regexes as first written -- on the committed real documents
(tests/data/realdocs: Markdown and text pages read as they are) and on edge cases."""
import itertools
import random
import re
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.pipeline.filters import GopherRepetitionFilter
from datatrove.pipeline.filters import gopher_repetition_filter as dt

from refinery.filters import heuristics as h
from refinery.filters import language, prose_quality
from refinery.filters.bad_words import OfflineBadWordsFilter
from refinery.filters.build import build_filter_steps
from refinery.filters.heuristics import C4Quality, GopherRepetition
from refinery.filters.options import FilterOptions
from refinery.filters.prose_quality import ProseWords
from refinery import text_blocks as tb
from refinery.text_blocks import _fences, _indent, _strip_markup, line_kinds, prose, words
from tests.filters.texts import ENGLISH, REPETITIVE, WORD_SALAD

RAW = Path(__file__).resolve().parents[1] / "data" / "realdocs" / "raw"
REAL = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(RAW.rglob("*")) if p.suffix in (".md", ".txt")]
# "ab c" and "a bc" join to the same n-gram in datatrove's find_all_duplicate (no separator): kept that way
COLLIDING = " ".join(["ab c", "a bc"] * 40) + "\n\n" + "the end of it all " * 30
# no 9-gram repeats, but many have the same letters as others
ANAGRAMS = " ".join(" ".join(p) for p in itertools.permutations(["red", "green", "blue", "cyan", "pink"]))
EDGE = [ENGLISH, REPETITIVE, WORD_SALAD, COLLIDING, ANAGRAMS, "", "one", "a b", "x\n\n\nx\n\nx"]


def test_there_are_real_documents():
    assert len(REAL) >= 20


def test_repetition_helpers_equal_datatrove():
    for text in REAL + EDGE:
        for source in (text, prose(text)):
            ws = words(source)
            for parts in (dt.GopherRepetitionFilter().paragraph_exp.split(source.strip()), source.split("\n")):
                assert h.find_duplicates(parts) == dt.find_duplicates(parts)
            for n in (2, 3, 4):
                grams = dt.get_n_grams(ws, n)
                assert h.NGrams(ws).top_duplicate(n) == (dt.find_top_duplicate(grams) if grams else None)
            if not source:
                continue
            for n in range(5, 11):
                exact = dt.find_all_duplicate(ws, n)
                for frac in (0.0, 0.05, 0.1, 0.15, 0.3, 0.45):  # 0.0: the scan runs whenever anything repeats
                    assert h.NGrams(ws).duplicates_over(n, frac, len(source)) == (exact / len(source) > frac)


def test_n_gram_hashes_are_those_of_the_joined_strings():
    for text in REAL[:8] + EDGE:
        ws = words(text)
        grams = h.NGrams(ws)
        sums, scales = grams._hashes
        for n in (1, 5, 10):
            seen = {}
            for gram, key in zip(h._n_grams(ws, n, ""), ((sums[n:] - sums[:-n]) * scales[:-n]).tolist()):
                assert seen.setdefault(gram, key) == key  # equal n-grams hash alike: the bound holds
            assert len(set(seen.values())) == len(seen)  # and different ones did not collide here
        inverse = pow(h._B, -1, 2**64)
        for i, j in ((0, 1), (2, 7), (0, len(ws))):
            if j <= len(ws):
                direct = sum(c * pow(inverse, k, 2**64) for k, c in enumerate(
                    h._char_hashes(h.np.array([ord(ch) for ch in "".join(ws[i:j])], dtype=h.np.uint32)).tolist()))
                assert (sums.tolist()[j] - sums.tolist()[i]) * scales.tolist()[i] % 2**64 == direct % 2**64


def test_n_gram_counts_corner_cases():
    ws = words(ANAGRAMS)
    assert dt.find_all_duplicate(ws, 9) == 0  # no 9-gram repeats ...
    assert not h.NGrams(ws).duplicates_over(9, 0.1, len(ANAGRAMS))
    spaced = ["a b", "c", "a", "b c", "a b", "c", "x"] * 3  # "a b c" from two different word pairs
    for n in (1, 2, 3, 4):
        assert h.NGrams(spaced).top_duplicate(n) == dt.find_top_duplicate(dt.get_n_grams(spaced, n))
    ties = ["z", "y", "z", "y", "long", "words", "long", "words"]  # equal counts: the first seen wins
    assert h.NGrams(ties).top_duplicate(2) == dt.find_top_duplicate(dt.get_n_grams(ties, 2)) == 3 * 2
    assert h.NGrams(["a"]).top_duplicate(2) is None and not h.NGrams(["a"]).duplicates_over(5, 0.1, 1)


@pytest.mark.parametrize("profile", ["web", "documents"])
def test_repetition_filter_decides_as_datatrove(profile):
    g = FilterOptions(profile=profile).gopher_repetition
    kwargs = dict(dup_line_frac=g.dup_line_frac, dup_para_frac=g.dup_para_frac,
                  dup_line_char_frac=g.dup_line_char_frac, dup_para_char_frac=g.dup_para_char_frac,
                  top_n_grams=tuple(g.top_n_grams), dup_n_grams=tuple(g.dup_n_grams), language=ProseWords())
    ours, theirs = GopherRepetition(**kwargs), GopherRepetitionFilter(**kwargs)
    results = []
    for text in REAL + EDGE:
        for source in (text, prose(text)):
            mine = ours.filter(Document(text=source, id="x"))
            assert mine == theirs.filter(Document(text=source, id="x")), source[:200]
            results.append(mine is True)
    assert any(results) and not all(results)  # both kinds of decision were compared


def test_c4_whole_text_shortcut_as_datatrove_line_loop():
    options = FilterOptions(profile="documents").c4_quality.model_dump(exclude={"enabled"})
    fast, loop = C4Quality(**options), C4Quality(**options)
    loop._whole_text_rules_only = False  # datatrove's loop on every document
    assert fast._whole_text_rules_only
    edge = ["\n\n  A line.  \n\n\nB\n\n", "a\rb\x0bc\x0cd\x1ce\x85f\u2028g\u2029h\n", "x" * 1001 + " tail\nkept",
            "x" * 1000 + "\nkept", "Lorem Ipsum dolor\nx", "lorem\nipsum", "LOREM IPSUM " + "y" * 1200, "\t\n \n", "",
            "ΣΑΣ lorem ipsum", "İpsum lorem", "first\n\nlast", "first\n\nlast\n", "\nfirst", " a \n b ", "a\r\nb"]
    shortcut = 0
    for text in REAL + EDGE + edge:
        a, b = Document(text=text, id="x"), Document(text=text, id="x")
        assert fast.filter(a) == loop.filter(b), text[:100]
        assert a.text == b.text, text[:100]
        shortcut += not (re.search(r"\S{1001}", text) or "lorem ipsum" in text.lower())
    assert fast.stats.to_dict() == loop.stats.to_dict() and fast.stats["line-total"].total > 1000
    assert 10 < shortcut < len(REAL + EDGE + edge)  # both ways were taken


BAD_EDGE = ["he is a s.o.b. and that is sh!t", "2 girls 1 cup", "2 girls and 1 cup", "SOB s o b", "jack off, jack-off",
            "bullshit bullshit bullshit", "xbullshit bullshitx", "bullshit\n", "\nbullshit", "shi+ sh!+ s.h.i.t.",
            "Bull Shit. BULL SHIT! bull shit", "p.u.s.s.y. p u s s y"]


@pytest.mark.parametrize("min_matches", [1, 3])
def test_bad_words_decide_as_the_whole_list(min_matches):
    f = OfflineBadWordsFilter(min_matches=min_matches)
    whole = f._get_badwords("en")  # the alternation of every entry, as before the candidate narrowing
    dropped = 0
    texts = REAL + BAD_EDGE + [t + " " + e for t in REAL[:5] for e in BAD_EDGE] + [e + " " + REAL[0] for e in BAD_EDGE]
    for text in texts:
        hits = sum(1 for _ in whole.finditer(text.lower()))
        expected = True if hits < min_matches else (False, "document_removed_with_badwords")
        assert f.filter(Document(text=text, id="x", metadata={"language": "en"})) == expected, text[:200]
        dropped += expected is not True
    assert dropped >= 5


def test_bad_words_without_word_characters_use_the_whole_list():
    f = OfflineBadWordsFilter(extra_words=["!!!"])
    assert f.filter(Document(text="wow !!! yes", id="x")) == (False, "document_removed_with_badwords")
    assert f._word_runs["en"] is None
    assert f.filter(Document(text="wow!!!yes and a clean line", id="y")) is True


OLD_LID_IDENTIFIER = re.compile(r"\S*[_\d()]\S*|\b[A-Z]{2,}\b")
OLD_PROSE_IDENTIFIER = re.compile(r".*(?:_|[a-z][A-Z]|\w\.\w)")


def test_identifier_regexes_as_first_written():
    tricky = ("x86_64 (see) NULL f() ABC-def abcDEF sqlite3_open() getValue a.b README.md_ _x x_ (( )) 42 A1 AB "
              "ÉTAT AÉB ABé NASA's \u00a0HTTP_1\tX_1\nABC\u2003DEF,GH x1 AB_CD")
    for text in REAL + EDGE + [tricky]:
        for source in (prose(text, tables=True), " ".join(words(text)), text):
            assert language._without_identifiers(source) == OLD_LID_IDENTIFIER.sub(" ", source)
        for w in words(text) + words(tricky):
            assert bool(prose_quality._IDENTIFIER.search(w)) == bool(OLD_PROSE_IDENTIFIER.match(w))


OLD_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|\\(?=[^\w\s])|!?\[([^\]]*)\]\([^)]*\)")


def _strip_markup_unguarded(line: str) -> str:  # text_blocks._strip_markup before the guards
    line = tb._MARKER.sub("", line.strip())
    line = tb._INLINE_CODE.sub(" ", line)
    line = tb._URL.sub(" ", line)
    line = tb._PATH.sub(" ", line)
    line = OLD_MARKUP.sub(lambda m: m.group(1) or "", line)
    return tb._SPACES.sub(" ", line).strip()


def test_markup_stripping_guards():
    edge = ["- **bold** and `code` at https://x.org/a, /usr/bin/x and C:\\Tools\\x", "\tplain  text\twith tabs",
            "[link](http://x) ![img](y.png) snake_case _em_ \\*", "plain words only", "a@b.org www.x.org", " \t x",
            "and/or a/b/c ~/x/y ../a/b", "*a* _b_ a*b a_b *_x_* **_y_** __z__ x__ _ * ** *** _a ! [x] ![](y) [](z)",
            "![a](b)[c](d) !![e](f) [g]]( h) \\[i\\](j) é_ü _é ü* *ü 1_2 _1 *1* x\\_y"]
    rng = random.Random(15)
    pieces = list("*_[]()!\\ ab1é") + ["**", "__", "](", "a_b"]
    fuzz = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(20_000)]
    for line in edge + fuzz + [line for text in REAL for line in text.split("\n")]:
        assert _strip_markup(line) == _strip_markup_unguarded(line), line


def test_fences_and_indent_shortcuts():
    assert _fences(["text", "```", "code"]) == set()  # never closed: no fence
    assert _fences(["```", "a", "```"]) == {0, 1, 2}
    assert _fences(["Title", "~~~~~", "body", "~~~"]) == set()  # an underline, then an unclosed fence
    assert _indent("\tx") == 4 and _indent("  x") == 2 and _indent("x\ty") == 0 and _indent("") == 0
    assert line_kinds(["    indented code block line here", "text"]) == line_kinds(["    indented code block line here",
                                                                                      "text"])


def _looks_like_code_as_first_written(line: str) -> bool:  # text_blocks.looks_like_code before the fast paths
    if tb._PROMPT.match(line) or tb._CODE_START.match(line) or (
            tb._C_DECLARATION.match(line) and not line.endswith(".")):
        return True
    if all(tb._IDENTIFIER.fullmatch(token) for token in line.split()):
        return True
    nonspace = len(line) - line.count(" ")
    symbols = sum(c in tb._CODE_CHARS for c in line)
    tokens = len(tb._CODE_TOKENS.findall(line))
    if tokens >= 2 or (tokens and line.endswith(tb._CODE_END + (")", "const"))):
        return True
    if line.endswith(("{", "}")) or (line.endswith(";") and symbols >= 2):
        return True
    letters = sum(map(str.isalpha, line))
    if letters / nonspace < 0.5 or tb._ALIGNED.search(line):
        return True
    return symbols / nonspace >= 0.15 or (symbols / nonspace >= 0.08 and letters / nonspace < 0.6)


# the characters and words the code patterns look for, for random lines that hit their corners
_SYMBOLS = list("{}[]();=<>|&$\\^~`*_/:#+-!.,'\"") + ["   ", "é", "ß", "½", "²", "f(", "x1"]
_WORDS = [" ", " ", " ", "a", "Z", "const", "int", "void", "define", "include", "p", "the", "Value", "word"]


def _random_lines(n: int, seed: int = 15) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pieces = (rng.choice(_WORDS if rng.random() < 0.7 else _SYMBOLS) for _ in range(rng.randint(1, 16)))
        line = "".join(pieces).strip()
        if line:
            out.append(line)
    return out


def test_code_line_test_as_first_written():
    tricky = ["(char* p, int n)", "#define(x, y)", "(int[4])", "a* b;", "x->a[0]", "**bold**, and *em*;", "é½ ² x",
              "ÜBER_ALLES straße", "a  &&b =", "f(a, b)   g", "SQLITE_OK", "getValue()", "x   y", "x = y;", "}"]
    real = [s for text in REAL for s in map(str.strip, text.split("\n")) if s]
    for line in tricky + real + _random_lines(60_000):
        assert tb.looks_like_code(line) == _looks_like_code_as_first_written(line), line
        if tb._CODE_TOKENS.search(line):  # the hint is a superset: a line it misses has no token
            assert tb._CODE_TOKEN_HINT.search(line), line


def test_prose_views_in_either_order():
    text = "# Title\n\n| Name | Value |\n|---|---|\n| alpha | beta |\n\nSome *prose* here, see `x`.\n"
    prose.cache_clear()
    first = (prose(text), prose(text, tables=True))
    prose.cache_clear()
    second = (prose(text, tables=True), prose(text))
    assert first[0] == second[1] == "Title\n\nSome prose here, see ."
    assert first[1] == second[0] and "alpha beta" in first[1]


def _quality_scores_per_word(text: str, stop_words=prose_quality.STOP_WORDS) -> dict:
    """prose_quality.quality_scores as first written: every word judged one by one."""
    body = prose(text)
    prose_words = [w for w in words(body) if not OLD_PROSE_IDENTIFIER.match(w)]
    lines = [line for line in body.split("\n") if line.strip()]
    n = max(len(prose_words), 1)
    return {
        "words": len(words(text)),
        "prose_words": len(prose_words),
        "avg_word_length": round(sum(map(len, prose_words)) / n, 3),
        "hash_ratio": round(body.count("#") / n, 4),
        "ellipsis_ratio": round((body.count("...") + body.count("…")) / n, 4),
        "ellipsis_lines_ratio": round(sum(s.rstrip().endswith(("...", "…")) for s in lines) / max(len(lines), 1), 4),
        "bullet_lines_ratio": round(sum(s.lstrip().startswith(("•", "-")) for s in text.splitlines())
                                    / max(len(text.splitlines()), 1), 4),
        "alpha_words_ratio": round(sum(any(c.isalpha() for c in w) for w in prose_words) / n, 4),
        "stop_words": sorted({w.lower() for w in prose_words} & set(stop_words)),
    }


def _vocabulary_letters(text: str) -> int:  # language._enough_vocabulary as first written: counts them all
    return sum(map(len, set(map(str.lower, re.findall(r"[^\W\d_]+", text)))))


def _lid_text_eager(text: str) -> str | None:  # language.lid_text as first written: both views built
    for candidate in (OLD_LID_IDENTIFIER.sub(" ", prose(text, tables=True)),
                      OLD_LID_IDENTIFIER.sub(" ", " ".join(words(text)))):
        if _vocabulary_letters(candidate) >= language.MIN_LID_LETTERS:
            return candidate
    return None


def test_quality_scores_and_lid_text_as_first_written():
    code_only = "```\nint main(void) { return 0; }\n```\nx86_64 NULL sqlite3_open() getValue FOO_BAR"
    for text in REAL + EDGE + [code_only, "3 Sheets: Über Straße İstanbul 42 café ½ x²"]:
        assert prose_quality.quality_scores(text) == _quality_scores_per_word(text)
        assert language.lid_text(text) == _lid_text_eager(text)


def test_count_words_counts_the_words():
    rng = random.Random(15)
    alphabet = list("ab_Z9 .'-’\n\t,é²½Ⅻ\ud800ß") + ["\U0001F600", "x.y", "--", "İ"]
    texts = REAL + EDGE + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20_000)]
    for text in texts:
        assert tb.count_words(text) == len(words(text)), repr(text[:100])


def test_repetition_takes_lone_surrogates():
    ws = ["a\ud800b", "c"] * 40
    assert h.NGrams(ws).duplicates_over(5, 0.1, 400) == (dt.find_all_duplicate(ws, 5) / 400 > 0.1)


def test_enough_vocabulary_stops_at_the_same_count():
    texts = REAL + EDGE + ["PostgreSQL: MySQL: " * 50, "a" * 39, "a" * 40, "ab AB Ab " * 9 + "cd", "Éé ÉÉ straße x" * 3]
    for text in texts:
        for cut in (len(text), 20, 45, 60, 200):
            assert language._enough_vocabulary(text[:cut]) == (_vocabulary_letters(text[:cut]) >= 40), text[:cut]


def test_the_prose_filters_split_each_document_once():
    """The filters run one document at a time through the chain (datatrove's batch_size 1), so language ID,
    Gopher quality and repetition find each document's line kinds and prose in text_blocks' caches of 16."""
    for cache in (tb._kinds_of, tb._stripped_lines, tb.prose, tb._words_of):
        cache.cache_clear()
    data = iter([Document(text=t + " ", id=str(i)) for i, t in enumerate(REAL)])  # texts no test has cached
    for step in build_filter_steps(FilterOptions()):
        assert getattr(step, "batch_size", 1) <= 8
        data = step.run(data)
    assert list(data)
    assert tb._stripped_lines.cache_info().misses == len(set(REAL)) == tb._kinds_of.cache_info().misses
