"""PII redaction: emails, phone numbers, IP addresses, credit cards (Luhn-checked) and US SSNs are replaced
by placeholders. `find_pii` is the detector both the redactor and the "no PII left" check use, so the two
cannot disagree. Patterns lean towards precision: dates, versions, timestamps and bare digit runs are not
phone numbers, and digit runs need a valid checksum/range to count as cards or SSNs."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.formatters.base import BaseFormatter
from datatrove.utils.typeshelper import StatHints

from refinery.filters.options import DEFAULT_PII_PLACEHOLDERS, PII_KINDS

# Emails are anchored on "@": the local part is read backwards (at most 64 characters, RFC 5321), the domain
# matched forwards. A single regex (datatrove's) retries every word boundary and goes quadratic on long
# runs like "a-a-a-...", which extracted tables do contain. Quotes, slashes, braces, pipes and backticks are
# legal in a local part but in practice delimit it ('a@b.c', {a@b.c}, path/a@b.c), so they end it.
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+=?^_~.-")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}|\[(?:\d{{1,3}}\.){{3}}\d{{1,3}}\]")

# Phones. International: "+CC" then up to 6 digit groups (single space/dot/dash separators, optional "(0)"
# or "(area)"); possessive \d++ keeps backtracking linear. US: (555) 123-4567, 555-123-4567, 555.123.4567,
# 555 123 4567, optionally led by 1/+1. Separators are required, so bare digit runs never match, and the
# 3-3-4 shape excludes dates (2024-01-15, 01/15/2024), versions (1.2.3) and ISO timestamps.
_PHONE_INTL = r"\+\d{{1,3}}(?:[ .-]?\(\d{{1,4}}\))?(?:[ .-]?\d++){{{n}}}"
_PHONE_US = r"(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
_PHONE_BEFORE, _NUMBER_AFTER = r"(?<![\w+.-])", r"(?!\w|[.-]\d)"
_PHONE = re.compile(rf"{_PHONE_BEFORE}(?:{_PHONE_INTL.format(n='1,6')}|{_PHONE_US}){_NUMBER_AFTER}")
# At a candidate, the longest shape that validates wins: "+1 555 123 4567 1-800-555-1234" is two numbers.
_PHONE_SHAPES = [
    *((re.compile(rf"{_PHONE_BEFORE}{_PHONE_INTL.format(n=n)}{_NUMBER_AFTER}"), range(8, 16)) for n in range(6, 0, -1)),
    (re.compile(rf"{_PHONE_BEFORE}{_PHONE_US}{_NUMBER_AFTER}"), (10, 11)),
]

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # 0-255, no leading zeros
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\w|\.\d)")
# A run of hex digits and colons, optionally ending in dotted IPv4 (::ffff:1.2.3.4); `ipaddress` decides.
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)")
_VERSION_BEFORE = re.compile(r"(?:\bv|\bver\.?|\bversion|\brelease|\bbuild)\s*$", re.IGNORECASE)

# Cards: 13-19 contiguous digits, or groups led by 4 digits with one consistent separator
# (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4).
_CARD_BEFORE = r"(?<![\w.+-])"
_CARD_GROUPED = r"\d{{4}}([ -])\d{{4,6}}\1\d{{4,5}}(?:\1\d{{1,4}}){{{n}}}"
_CARD = re.compile(rf"{_CARD_BEFORE}(?:\d{{13,19}}|{_CARD_GROUPED.format(n='0,2')}){_NUMBER_AFTER}")
_CARD_SHAPES = [
    (re.compile(rf"{_CARD_BEFORE}\d{{13,19}}{_NUMBER_AFTER}"), range(13, 20)),
    *((re.compile(rf"{_CARD_BEFORE}{_CARD_GROUPED.format(n=n)}{_NUMBER_AFTER}"), range(13, 20)) for n in (2, 1, 0)),
]
# AAA-GG-SSSS minus never-issued ranges: area 000, 666, 9xx; group 00; serial 0000.
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _emails(text: str):
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        while start < at and text[start] == ".":  # a local part cannot start with a dot
            start += 1
        if start < at and (m := _EMAIL_DOMAIN.match(text, at + 1)):
            yield start, m.end()
        at = text.find("@", at + 1)


def _scan(text: str, finder: re.Pattern, shapes, valid=lambda digits: True):
    """Spans where `finder` finds a candidate and the longest of `shapes` matching there has an allowed digit
    count and passes `valid`. A failed candidate is not skipped whole, so numbers inside it are still found."""
    pos = 0
    while m := finder.search(text, pos):
        for shape, digit_counts in shapes:
            c = shape.match(text, m.start())
            if c and len(d := _digits(c.group())) in digit_counts and valid(d):
                yield c.start(), c.end()
                pos = c.end()
                break
        else:
            pos = m.start() + 1


def _phones(text: str):
    return _scan(text, _PHONE, _PHONE_SHAPES)


def _ips(text: str):
    for m in _IPV4.finditer(text):
        if not _VERSION_BEFORE.search(text, max(0, m.start() - 12), m.start()):
            yield m.start(), m.end()
    for m in _IPV6.finditer(text):
        s = m.group()
        # a digit and two colons: skips "::" (Haskell, C++), hex words and times (12:30:45 is no address)
        if s.count(":") >= 2 and any(c.isdigit() for c in s):
            try:
                ipaddress.IPv6Address(s)
            except ValueError:
                continue
            yield m.start(), m.end()


def _cards(text: str):
    # major networks start with 2-6 (Mastercard 2-series/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay 6)
    return _scan(text, _CARD, _CARD_SHAPES, lambda d: d[0] in "23456" and luhn_valid(d))


def _ssns(text: str):
    for m in _SSN.finditer(text):
        yield m.start(), m.end()


_DETECTORS = {"email": _emails, "phone": _phones, "ip_address": _ips, "credit_card": _cards, "us_ssn": _ssns}


def find_pii(text: str, kinds: Iterable[str] | None = None) -> list[tuple[str, int, int]]:
    """Non-overlapping (kind, start, end) spans, in text order. Overlaps keep the longest span (an email
    containing digits is an email), ties go to the earlier kind in `kinds`."""
    kinds = list(PII_KINDS if kinds is None else kinds)
    if unknown := set(kinds) - set(_DETECTORS):
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; known: {list(PII_KINDS)}")
    found = [(start, -(end - start), rank, kind, end)
             for rank, kind in enumerate(kinds) for start, end in _DETECTORS[kind](text)]
    spans, last_end = [], 0
    for start, _, _, kind, end in sorted(found):
        if start >= last_end:
            spans.append((kind, start, end))
            last_end = end
    return spans


def check_placeholders(placeholders: Mapping[str, str]) -> None:
    """A placeholder that looks like PII would be re-detected forever (and fail the "no PII left" check)."""
    for kind, placeholder in placeholders.items():
        if find_pii(f"x {placeholder} x"):
            raise ValueError(f"PII placeholder {placeholder!r} for {kind!r} is itself detected as PII")


def redact_pii(text: str, kinds: Iterable[str] | None = None,
               placeholders: Mapping[str, str] | None = None) -> tuple[str, dict[str, int]]:
    """(redacted text, count per kind). Re-scans the result so nothing detectable is left behind."""
    kinds = list(PII_KINDS if kinds is None else kinds)
    subs = {**DEFAULT_PII_PLACEHOLDERS, **(placeholders or {})}
    counts = dict.fromkeys(kinds, 0)
    for _ in range(3):  # later passes are a safety net: a placeholder next to text could complete a pattern
        spans = find_pii(text, kinds)
        if not spans:
            break
        parts, pos = [], 0
        for kind, start, end in spans:
            parts += [text[pos:start], subs[kind]]
            counts[kind] += 1
            pos = end
        text = "".join(parts) + text[pos:]
    return text, counts


class PIIRedactor(BaseFormatter):
    """Replaces PII with placeholders; counts go to stats (`pii_<kind>`, `pii_documents`) and to
    `metadata["pii_redactions"]` ({kind: count} for every configured kind, zeros included, for a stable schema).
    """

    name = "🔏 PII redaction"

    def __init__(self, kinds: Iterable[str] | None = None, placeholders: Mapping[str, str] | None = None):
        super().__init__()
        self.kinds = list(PII_KINDS if kinds is None else kinds)
        find_pii("", self.kinds)  # validates the kinds
        self.placeholders = {**DEFAULT_PII_PLACEHOLDERS, **(placeholders or {})}
        check_placeholders(self.placeholders)

    def format(self, text: str) -> str:
        return redact_pii(text, self.kinds, self.placeholders)[0]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            self.stat_update(StatHints.total)
            with self.track_time():
                doc.text, counts = redact_pii(doc.text, self.kinds, self.placeholders)
            doc.metadata["pii_redactions"] = counts
            for kind, n in counts.items():
                if n:
                    self.stat_update(f"pii_{kind}", value=n)
            if any(counts.values()):
                self.stat_update("pii_documents")
            yield doc
