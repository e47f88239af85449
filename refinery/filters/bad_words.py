"""C4's bad-words filter on an offline list: better-profanity's word list (shipped in its wheel) instead of the
LDNOOBW lists datatrove downloads. Matching is C4's: lowercased text, whole words (flanked by non-word
characters), except for ja/th/zh which have no spaces."""
from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
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

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        regex = self._get_badwords(doc.metadata.get("language", self.default_language))
        if self.min_matches > 1 and regex is not None:
            hits = 0
            for _ in regex.finditer(doc.text.lower()):
                hits += 1
                if hits >= self.min_matches:
                    break
            else:
                return True
        return super().filter(doc)

    def _get_badwords(self, lang: str) -> re.Pattern | None:
        if lang not in self._badwords_regex:
            if lang not in self.languages:
                if self.fail_on_missing_language:
                    raise ValueError(f'No bad-words list for "{lang}" (configured: {self.languages}). '
                                     f"Set fail_on_missing_language=False to let such documents through.")
                return None
            words = sorted(map(re.escape, load_bad_words(self.extra_words, self.allow_words,
                                                          self.use_default_allowlist)))
            alternation = "|".join(words) or "(?!)"  # an empty alternation would match everywhere
            self._badwords_regex[lang] = (
                re.compile(alternation) if lang in ("ja", "th", "zh")
                else re.compile(r"(?:\W|^)({})(?:\W|$)".format(alternation))
            )
        return self._badwords_regex[lang]
