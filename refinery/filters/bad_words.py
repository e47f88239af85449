"""C4's bad-words filter on an offline list: better-profanity's word list (shipped in its wheel) instead of the
LDNOOBW lists datatrove downloads. Matching is C4's: lowercased text, whole words (flanked by non-word
characters), except for ja/th/zh which have no spaces. Each document is matched against only the entries whose
word-character runs it holds (bench/filter_speed.py: ×5 less CPU, the same matches as the whole list)."""
from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import C4BadWordsFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from refinery.filters.reasons import ReasonedFilter

# Entries of better-profanity's list that are ordinary words in business, medical, legal, technical or
# historical prose (or names, or identity terms whose removal C4 was criticised for). A document mentioning
# "sexual harassment", "stroke", "market penetration" or "magna cum laude" is not what this filter is for.
PROSE_ALLOWLIST = frozenset("""
    anal anus areole breasts crotch erect erection foreskin glans gonad gonads hymen labia menses menstruate
    menstruation nipple nipples organ ovary ovum ovums penial penile penis pubic pubis rectal rectum rectus
    scrotum semen sperm testes testicle testis uterus vagina vulva womb urine urinal hiv herpes pms tampon vomit
    sex sexual gay gays lesbians queer queers transsexual
    kill murder sniper uzi napalm nazi nazism hitler reich klan kkk
    drunk heroin meth opiate opium pcp peyote pot weed hemp hookah rum vodka valium viagra stoned junkie junky
    crap damn hell god omg lmao stupid ugly dummy dopey doofus jerk jerked fat fart pee poop potty tinkle
    screw screwed screwing suck sucked sucking stroke strip thrust tramp trashy sleaze sleazy prude prig nimrod
    ninny weirdo inbred leper thug sissy vulgar tawdry racy steamy lust lusting lusty naked nude nudes virgin
    seduce unwed slave slope snatch snuff souse soused scum hump knob lube nappy pasty pastie hoar wad
    sadism sadist masochist penetrate penetration enlargement facial fingering
    flange foobar fubar pawn revue sandbar seaman seamen maxi nad nads xx len loin loins pollock paddy cum
    wang dong willy woody gai gae vixen
    oral orally xxx
""".split())


def profanity_wordlist_path() -> Path:
    """better-profanity's profanity_wordlist.txt, located without importing the package."""
    spec = importlib.util.find_spec("better_profanity")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("better-profanity is not installed: it ships the offline bad-words list")
    return Path(next(iter(spec.submodule_search_locations))) / "profanity_wordlist.txt"


def load_bad_words(extra: Iterable[str] = (), allow: Iterable[str] = (), default_allowlist: bool = True) -> set[str]:
    """Lowercased words (C4 lowercases the text too, so mixed-case entries would never match)."""
    words = {w.strip().lower() for w in profanity_wordlist_path().read_text(encoding="utf-8").splitlines()}
    words |= {w.strip().lower() for w in extra}
    words -= {w.strip().lower() for w in allow}
    if default_allowlist:
        words -= PROSE_ALLOWLIST
    words.discard("")
    return words


class OfflineBadWordsFilter(ReasonedFilter, C4BadWordsFilter):
    """Drops documents containing a bad word, with reason "document_removed_with_badwords".
    `languages` are those the (English) list applies to; other languages count as missing lists
    (`fail_on_missing_language`). `min_matches` > 1 (the `documents` profile) needs that many hits: a
    colleague named Fook, a mention of Guido van Rossum or the `scrot` tool is not a toxic manual."""

    name = "⛰ C4 Badwords (offline)"
    default_reason = "bad_words"

    def __init__(self, languages: Iterable[str] = ("en",), extra_words: Iterable[str] = (),
                 allow_words: Iterable[str] = (), use_default_allowlist: bool = True,
                 keep_fraction: float = 0.0, fail_on_missing_language: bool = False, seed: int | None = None,
                 default_language: str = "en", min_matches: int = 1, exclusion_writer: DiskWriter = None):
        super().__init__(keep_fraction=keep_fraction, fail_on_missing_language=fail_on_missing_language,
                         seed=seed, default_language=default_language, exclusion_writer=exclusion_writer)
        self.languages = list(languages)
        self.extra_words = list(extra_words)
        self.allow_words = list(allow_words)
        self.use_default_allowlist = use_default_allowlist
        self.min_matches = min_matches
        # per language: the list's entries by their first word-character run (None: match the whole list)
        self._word_runs: dict[str, dict[str, list[tuple[frozenset[str], str]]] | None] = {}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang = doc.metadata.get("language", self.default_language)
        regex = self._get_badwords(lang)
        if regex is None:
            return super().filter(doc)  # datatrove's stats for a language without a list
        lowered = doc.text.lower()
        if (index := self._word_runs.get(lang)) is not None:
            # only the entries that can match this text: the same matches as the whole list, found in a
            # fraction of the time (a 700-word alternation is tried at every position of every document)
            regex = _regex_of(_candidates(index, lowered), lang)
            if regex is None:
                return True
        hits = 0
        for _ in regex.finditer(lowered):
            hits += 1
            if hits >= self.min_matches:
                break
        else:
            return True
        # as datatrove's C4BadWordsFilter.filter from here
        self.stat_update("documents_with_badwords", f"documents_with_badwords_{lang}")
        if self.keep_fraction > 0.0 and self.uniform() < self.keep_fraction:
            self.stat_update("document_kept_with_badwords", f"document_kept_with_badwords_{lang}")
            return True
        self.stat_update(f"document_removed_with_badwords_{lang}")
        return False, "document_removed_with_badwords"

    def _get_badwords(self, lang: str) -> re.Pattern | None:
        if lang not in self._badwords_regex:
            if lang not in self.languages:
                if self.fail_on_missing_language:
                    raise ValueError(f'No bad-words list for "{lang}" (configured: {self.languages}). '
                                     f"Set fail_on_missing_language=False to let such documents through.")
                return None
            bad_words = load_bad_words(self.extra_words, self.allow_words, self.use_default_allowlist)
            alternation = "|".join(sorted(map(re.escape, bad_words))) or "(?!)"  # empty would match everywhere
            self._word_runs[lang] = _runs_index(bad_words, lang)
            self._badwords_regex[lang] = _pattern(alternation, lang)
        return self._badwords_regex[lang]


_WORD_RUN = re.compile(r"\w+")
_NO_SPACES = ("ja", "th", "zh")  # languages matched without word boundaries


def _pattern(alternation: str, lang: str) -> re.Pattern:
    """C4's pattern: the alternation flanked by non-word characters or ends, bare where words have no spaces."""
    return re.compile(alternation) if lang in _NO_SPACES else re.compile(r"(?:\W|^)({})(?:\W|$)".format(alternation))


def _runs_index(words: set[str], lang: str) -> dict[str, list[tuple[frozenset[str], str]]] | None:
    """Each entry with its word-character runs, keyed by its first run; None where `_candidates` does not
    hold (languages matched without word boundaries, or an entry of punctuation only)."""
    if lang in _NO_SPACES:
        return None
    index: dict[str, list[tuple[frozenset[str], str]]] = {}
    for word in words:
        runs = _WORD_RUN.findall(word)
        if not runs:
            return None
        index.setdefault(runs[0], []).append((frozenset(runs), word))
    return index


def _candidates(index: dict[str, list[tuple[frozenset[str], str]]], lowered: str) -> frozenset[str]:
    """The entries that can match `lowered`: the pattern needs a non-word character or an end on both sides
    of an entry, so each of the entry's word-character runs is a whole run of the text ("s.o.b." needs the
    runs s, o and b)."""
    runs = set(_WORD_RUN.findall(lowered))
    return frozenset(word for first in runs & index.keys() for entry, word in index[first] if entry <= runs)


@lru_cache(maxsize=256)
def _regex_of(words: frozenset[str], lang: str) -> re.Pattern | None:
    """The filter's pattern over `words` only, alternatives in the same (sorted) order; None for no words."""
    if not words:
        return None
    return _pattern("|".join(sorted(map(re.escape, words))), lang)
