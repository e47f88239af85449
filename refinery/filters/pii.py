"""PII redaction: emails, phone numbers, IP addresses, credit cards (Luhn-checked) and US SSNs are replaced
by placeholders. `find_pii` is the detector both the redactor and the "no PII left" check use, so the two
cannot disagree.

Tuned for precision on technical text (measured on Debian's documentation packages, bench/pii_precision.py):
  - a dotted quad is no IP address in a version or section context ("version 3.6.23.1", "Section 14.2.2.1",
    a heading "14.2.2.1 Title", a ToC line), nor when it continues ("2.20.1.155.g426c"); one made of small
    numbers only (every octet <= 63, the shape of versions and section numbers; 10.x.y.z excepted) needs an
    IP context ("ip", "host", "connect", "ping", "nameserver", a :port, a /prefix...); IPv6 only in the used
    ranges (global, unique-local, link-local), so "::4" or "fd::17" are none;
  - phone shapes that a table of figures also has (3-3-4 digits split by spaces, national numbers
    starting with 0, 10-11 bare digits) need a phone word before them ("phone", "tel", "call", "fax"...);
    "+CC ..." (9+ digits), "(555) 123-4567", "555-123-4567" and "555.123.4567" stand alone;
  - a card number needs a Luhn-valid number of a card network in a card layout (4-4-4-4, Amex 4-6-5, Diners
    4-6-4); a contiguous 13-19 digit run only after a card word ("card", "visa", "payment"...), and never when
    it reads as a timestamp (20240115103000);
  - reserved documentation values are kept (`keep_documentation_values`): RFC 5737/3849 addresses, loopback,
    unspecified, broadcast, multicast, netmasks, RFC 2606/6761 domains, a short list of placeholder mail
    domains (`DEFAULT_KEPT_EMAIL_DOMAINS`), made-up TLDs and local parts that name nobody; private addresses
    only with `keep_private_ips`. systemd units (git-maintenance@hourly.timer) are never addresses.
A kept value still occupies its span, so digits inside user@555-123-4567.example are not a phone number."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.formatters.base import BaseFormatter
from datatrove.utils.typeshelper import StatHints

from refinery.filters.options import DEFAULT_KEPT_EMAIL_DOMAINS, DEFAULT_PII_PLACEHOLDERS, PII_KINDS

# Emails are anchored on "@": the local part is read backwards (at most 64 characters, RFC 5321), the domain
# matched forwards. A single regex (datatrove's) retries every word boundary and goes quadratic on long
# runs like "a-a-a-...", which extracted tables do contain. Quotes, slashes, braces, pipes and backticks are
# legal in a local part but in practice delimit it ('a@b.c', {a@b.c}, path/a@b.c), so they end it.
_EMAIL_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+=?^_~.-")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+{_LABEL}|\[(?:\d{{1,3}}\.){{3}}\d{{1,3}}\]")
# RFC 2606 / 6761 reserved names: never anybody's mailbox.
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost"})
# Top-level names that exist nowhere and that manuals use as placeholders (user@host.dom, name@domain.tld,
# commit@email.xx, user@hostname.domain.ext). Internal-network names (.local, .lan, .corp, .internal) are NOT
# here: a company's real mailboxes live under them.
_PLACEHOLDER_TLDS = frozenset({"tld", "dom", "domain", "ext", "xx"})
# Local parts that name nobody (user@gmail.com, yourname@gmail.com, your@email.address in a config example):
# kept with documentation values whatever the domain. Name-like placeholders (john.doe) are not: they are real
# people's addresses too.
_PLACEHOLDER_LOCAL_PARTS = frozenset({"user", "username", "user.name", "user_name", "yourname", "your.name",
                                      "your_name", "you", "your", "youremail", "your.email", "your_email", "email",
                                      "name", "someone", "somebody", "login", "loginname", "foo", "bar"})
# systemd unit instances (git-maintenance@hourly.timer, getty@tty1.service) are no addresses at all.
_UNIT_SUFFIXES = frozenset({"service", "timer", "socket", "target", "mount", "automount", "path", "slice",
                            "scope", "device", "swap"})

# Phones. International: "+CC" then up to 6 digit groups (single space/dot/dash separators, optional "(0)"
# or "(area)"); possessive \d++ keeps backtracking linear. US: (555) 123-4567, 555-123-4567, 555.123.4567,
# 555 123 4567, optionally led by 1/+1, one separator throughout. National: a 0-led number in 2-5 groups
# (030 1234567, 020 7946 0958, 06 12 34 56 78) or 10-11 contiguous digits; those, like US numbers split by
# spaces (1965 103 1970, 512 768 1024), are also what tables of figures look like and count only after a
# phone word.
_PHONE_INTL = r"\+[1-9]\d{{0,2}}(?:[ .-]?\(\d{{1,4}}\))?(?:[ .-]?\d++){{{n}}}"
_PHONE_US_PAREN = r"(?:\+?1[ .-]?)?\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
_PHONE_US_DASH = r"(?:\+?1-)?\d{3}-\d{3}-\d{4}"
_PHONE_US_DOT = r"(?:\+?1\.)?\d{3}\.\d{3}\.\d{4}"
_PHONE_US_SPACE = r"(?:\+?1 )?\d{3} \d{3} \d{4}"
_PHONE_NATIONAL = r"\(?0\d{1,4}\)?(?:[ /.-]\d{2,8}){1,4}+|\d{10,11}+"
_PHONE_BEFORE, _NUMBER_AFTER = r"(?<![\w+.-])", r"(?!\w|[.-]\d)"
# Every phone number lies in a run of digits and separators (its "+" or "(" may lead it).
_PHONE_HINT = re.compile(r"\d[\d .()/+-]{7,}")
_PHONE = re.compile(rf"{_PHONE_BEFORE}(?:{_PHONE_INTL.format(n='1,6')}|{_PHONE_US_PAREN}|{_PHONE_US_DASH}|"
                    rf"{_PHONE_US_DOT}|{_PHONE_US_SPACE}|{_PHONE_NATIONAL}){_NUMBER_AFTER}")
# At a candidate, the first shape that matches with an allowed digit count wins (longest international
# first): "+1 555 123 4567 1-800-555-1234" is two numbers. (shape, digit counts, needs a phone word)
_PHONE_SHAPES = [
    *((re.compile(rf"{_PHONE_BEFORE}{_PHONE_INTL.format(n=n)}{_NUMBER_AFTER}"), range(9, 16), False)
      for n in range(6, 0, -1)),
    (re.compile(rf"{_PHONE_BEFORE}{_PHONE_US_PAREN}{_NUMBER_AFTER}"), (10, 11), False),
    (re.compile(rf"{_PHONE_BEFORE}{_PHONE_US_DASH}{_NUMBER_AFTER}"), (10, 11), False),
    (re.compile(rf"{_PHONE_BEFORE}{_PHONE_US_DOT}{_NUMBER_AFTER}"), (10, 11), False),
    (re.compile(rf"{_PHONE_BEFORE}{_PHONE_US_SPACE}{_NUMBER_AFTER}"), (10, 11), True),
    (re.compile(rf"{_PHONE_BEFORE}(?:{_PHONE_NATIONAL}){_NUMBER_AFTER}"), range(9, 13), True),
]
# A phone word at most ~40 characters before the number, on its line: "Tel: 030 1234567", "call me at ...",
# "Phone (office): ...", "fax no. ...".
_PHONE_CONTEXT = re.compile(
    r"\b(?:phones?|telephone|tel|t[ée]l[ée]phone|telefon|call|calls|fax|mobile|mob|cell|cellphone|contact|"
    r"ph|hotline|sms|whatsapp|dial|ring)\b", re.IGNORECASE)

# Speed: Python's re skips fast to a pattern's first character only when the pattern starts with one, not
# with a lookbehind. So patterns start with a digit and look behind it (`\d(?<![\w.]\d)`), and detectors
# whose patterns start otherwise run only inside runs that a fast "hint" pattern found.
# Four numbers of 1-3 digits, not inside a longer dotted run (1.2.3.4.5, 2.20.1.155.g426c96fcdb); octets are
# checked in Python (0-255, no leading zeros).
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\w)")
# A run of hex digits and colons, optionally ending in dotted IPv4 (::ffff:1.2.3.4); `ipaddress` decides.
# Looked for only around two colons with at most 4 hex digits between them, which every address with two
# colons has.
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
# Dotted numbers named as something else just before: "version 3.6.23.1", "Section 6.2.4.3", "§ 1.2.3.4",
# "$Revision: 1.2.3.4$", "prior to 1.5.1.2", "upgrade to 3.8.8.3".
_NOT_IP_BEFORE = re.compile(
    r"(?:\bv|\bver\.?|\bversions?|\breleases?|\bbuild|\brev(?:ision)?:?|\bsections?|\bsect?\.|§+|\bchapters?|"
    r"\bch\.|\bparts?|\bclauses?|\bparagraphs?|\bpara\.|\bitems?|\bsteps?|\bfigures?|\bfig\.|\btables?|"
    r"\bappendix|\bsee|\bcf\.|\bprior to|\bupgrade to|\bupgrade from|\brelative to|\bsqlite|\bgit|\bpython|"
    r"\blinux|\bkernel)[\s(\[]*$", re.IGNORECASE)
# A dotted number opening a line and followed by a title is a heading, list item or ToC entry:
# "14.2.2.1 Title", "## 3.1.4.1 Title", "- 1.2.3.4. Item".
_LINE_START = re.compile(r"(?:^|\n)[ \t]*(?:#{1,6}[ \t]*|[-*+][ \t]+|\|[ \t]*)?$")
_TITLE_AFTER = re.compile(r"\.?[ \t]+[A-Z(\"'*_`]")
# Words and syntax that make small-number quads addresses: "connect to 10.1.2.3", "host 1.2.3.4 port 22",
# "IP address 8.8.4.4", "nameserver 1.1.1.1", "http://10.0.0.1/", "1.2.3.4:8080", "10.0.0.0/8".
_IP_CONTEXT_BEFORE = re.compile(
    r"\b(?:ip|ipv4|ips|address|addresses|addr|inet|hosts?|hostname|servers?|connect|connects|connected|"
    r"connecting|connection|ping|dns|nameservers?|resolvers?|gateway|gw|router|route|subnet|netmask|mask|"
    r"listen|listens|listening|bind|binds|proxy|interface|peer|remote|client|ssh|telnet|ftp|sftp|scp|curl|"
    r"wget|nmap|firewall|iptables|allow|deny|dhcp|lease|vpn|lan|wan)\b|://|@", re.IGNORECASE)
_IP_CONTEXT_AFTER = re.compile(r":\d{1,5}\b|/\d{1,2}\b|[\s,;)]{0,3}\b(?:port|ports|via|dev)\b", re.IGNORECASE)

_DOC_V4 = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_DOC_V6 = ipaddress.ip_network("2001:db8::/32")
# RFC 1918, link-local (169.254/16) and carrier-grade NAT (private to a provider's network)
_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                       "169.254.0.0/16", "100.64.0.0/10"))
# IPv6 addresses anything is reachable at: global unicast, unique local, link-local. The rest of the space
# is reserved, so "::4" (gnuplot's `using ::4`), "fd::17" (git's fd:: remote) or "::3:0:7:4" are no addresses.
_V6_USED = tuple(ipaddress.ip_network(n) for n in ("2000::/3", "fc00::/7", "fe80::/10"))

# Cards: grouped by one consistent separator in a card layout, or a contiguous run after a card word.
_CARD_BEFORE = r"(?<![\w.+-])"
_CARD_LAYOUTS = [  # (pattern, first digits allowed)
    (r"\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?", "23456"),  # 4-4-4-4 (Visa, Mastercard, Discover...), 19: +3
    (r"3[47]\d{2}([ -])\d{6}\1\d{5}", "3"),  # Amex 4-6-5
    (r"3[0689]\d{2}([ -])\d{6}\1\d{4}", "3"),  # Diners 4-6-4
]
_CARD_RUN = r"\d{13,19}"
_CARD_HINT = re.compile(r"\d[\d -]{12,}")
_CARD = re.compile(rf"{_CARD_BEFORE}(?:{_CARD_RUN}|\d{{4}}[ -]\d{{4,6}}[ -]\d{{4,5}}(?:[ -]\d{{3,4}})?)"
                   rf"{_NUMBER_AFTER}")
_CARD_SHAPES = [
    *((re.compile(rf"{_CARD_BEFORE}{p}{_NUMBER_AFTER}"), first, False) for p, first in _CARD_LAYOUTS),
    (re.compile(rf"{_CARD_BEFORE}{_CARD_RUN}{_NUMBER_AFTER}"), "23456", True),
]
_CARD_CONTEXT = re.compile(
    r"\b(?:cards?|credit|debit|visa|master ?card|amex|american express|discover|diners|jcb|unionpay|maestro|"
    r"cc|ccn|pan|payments?|pay|paid|billing|cardholder|charged?)\b", re.IGNORECASE)
# 14+ digits that read as a date and time (YYYYMMDDhhmm[ss...]) are a timestamp, never a card.
_TIMESTAMP = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d")

# AAA-GG-SSSS minus never-issued ranges (checked in Python): area 000, 666, 9xx; group 00; serial 0000.
_SSN = re.compile(r"\d(?<![\w-]\d)\d\d-\d\d-\d{4}(?![\w-])")

_SSN_LAYOUT = re.compile(r"\d{3}-\d{2}-\d{4}")

_CONTEXT_CHARS = 40


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


def _line_window(text: str, start: int, chars: int = _CONTEXT_CHARS) -> int:
    """Start of the `chars` characters before `start`, not reaching back past the line's start."""
    lo = max(0, start - chars)
    nl = text.rfind("\n", lo, start)
    return lo if nl == -1 else nl + 1


class _Keep:
    """Which detected values are kept (found, so they win overlaps, but not reported)."""

    def __init__(self, documentation: bool, private_ips: bool, email_domains: Iterable[str] | None):
        self.documentation, self.private_ips = documentation, private_ips
        domains = DEFAULT_KEPT_EMAIL_DOMAINS if email_domains is None else email_domains
        self.email_domains = tuple(d.lower().strip(".") for d in domains)

    def email(self, local: str, domain: str) -> bool:
        domain = domain.lower()
        if domain.startswith("[") or not self.documentation:  # user@[10.0.0.1] is an address in a mailbox
            return False
        if local.strip("*_").lower() in _PLACEHOLDER_LOCAL_PARTS:  # *username*@remote.host: Markdown emphasis
            return True
        tld = domain.rsplit(".", 1)[-1]
        if tld in _RESERVED_TLDS or tld in _PLACEHOLDER_TLDS:
            return True
        return any(domain == d or domain.endswith("." + d) for d in (*_RESERVED_DOMAINS, *self.email_domains))

    def ip(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if addr.version == 6 and addr.ipv4_mapped:
            addr = addr.ipv4_mapped
        if self.documentation:
            if addr.version == 4:
                if (any(addr in n for n in _DOC_V4) or addr.is_loopback or addr.is_unspecified or addr.is_multicast
                        or addr.is_reserved or int(addr) >> 24 == 0):  # 240/4 holds broadcast and netmasks
                    return True
            elif addr in _DOC_V6 or addr.is_loopback or addr.is_unspecified or addr.is_multicast:
                return True
        if self.private_ips:
            if addr.version == 4:
                return any(addr in n for n in _PRIVATE_V4)
            return addr in _V6_USED[1] or addr in _V6_USED[2]
        return False


_KEEP_DEFAULT = _Keep(True, False, None)
_KEEP_NOTHING = _Keep(False, False, ())


def _emails(text: str, keep: _Keep):
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < 64 and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        while start < at and text[start] == ".":  # a local part cannot start with a dot
            start += 1
        if start < at and (m := _EMAIL_DOMAIN.match(text, at + 1)):
            domain = m.group()
            if domain.rsplit(".", 1)[-1].lower() not in _UNIT_SUFFIXES:
                yield start, m.end(), keep.email(text[start:at], domain)
        at = text.find("@", at + 1)


def _scan(text: str, hint: re.Pattern, finder: re.Pattern, shapes, valid):
    """Spans where `finder` finds a candidate and the first of `shapes` matching there with an allowed digit
    count passes `valid(text, match, digits, shape_info)`. A failed candidate is not skipped whole, so numbers
    inside it are still found. Only inside the runs `hint` finds (and a "+" or "(" before them); the search
    ends a character after the run so that the patterns' look-aheads see it."""
    for h in hint.finditer(text):
        pos = h.start() - 1 if h.start() and text[h.start() - 1] in "+(" else h.start()
        stop = min(len(text), h.end() + 1)
        while m := finder.search(text, pos, stop):
            for shape, counts, info in shapes:
                c = shape.match(text, m.start(), stop)
                if c and len(d := _digits(c.group())) in counts:
                    if valid(text, c, d, info):
                        yield c.start(), c.end(), False
                        pos = c.end()
                        break
            else:
                pos = m.start() + 1


def _phone_valid(text: str, m: re.Match, digits: str, needs_context: bool) -> bool:
    number = m.group()
    if "." in number and ("-" in number or " " in number):  # dots don't mix: "+12345.000 4111" is two numbers
        return False
    if not needs_context:
        return True
    if _SSN_LAYOUT.fullmatch(number.strip("()")):  # 078-05-1120 is an SSN's layout, not a national number's
        return False
    start = m.start()
    return bool(_PHONE_CONTEXT.search(text, _line_window(text, start), start))


def _phones(text: str, keep: _Keep):
    return _scan(text, _PHONE_HINT, _PHONE, _PHONE_SHAPES, _phone_valid)


def _ipv4_is_address(text: str, start: int, end: int) -> bool:
    window = _line_window(text, start)
    if _NOT_IP_BEFORE.search(text, max(window, start - 24), start):
        return False
    if _LINE_START.search(text, max(0, start - 12), start) and _TITLE_AFTER.match(text, end):
        return False
    octets = [int(o) for o in text[start:end].split(".")]
    if max(octets) > 63 or octets[0] == 10:  # 10/8: private networks are mostly 10.x.y.z with small numbers
        return True
    # small numbers only: the shape of versions and section numbers; an address needs an IP context
    return bool(_IP_CONTEXT_BEFORE.search(text, window, start) or _IP_CONTEXT_AFTER.match(text, end))


def _octets_valid(s: str) -> bool:
    return all(len(o) == 1 or (o[0] != "0" and int(o) <= 255) for o in s.split("."))


def _ipv6_candidates(text: str):
    done = 0
    for h in _IPV6_HINT.finditer(text):
        colon = h.start()
        if colon < done:
            continue
        # a candidate holding this colon starts at most 39 characters before it and is at most 54 long
        pos, stop = max(done, colon - 39), min(len(text), colon + 56)
        while (m := _IPV6.search(text, pos, stop)) and m.start() <= colon:
            if m.end() == stop and stop < len(text) and not (m := _IPV6.match(text, m.start())):
                break  # cut by the window; matched again without it
            done = pos = m.end()
            yield m
        done = max(done, colon + 1)


def _ips(text: str, keep: _Keep):
    for m in _IPV4.finditer(text):
        if _octets_valid(m.group()) and _ipv4_is_address(text, m.start(), m.end()):
            yield m.start(), m.end(), keep.ip(ipaddress.IPv4Address(m.group()))
    for m in _ipv6_candidates(text):
        s = m.group()
        # a digit and two colons: skips "::" (Haskell, C++), hex words and times (12:30:45 is no address)
        if s.count(":") >= 2 and any(c.isdigit() for c in s):
            try:
                addr = ipaddress.IPv6Address(s)
            except ValueError:
                continue
            if addr.ipv4_mapped or addr.is_loopback or addr.is_unspecified or addr.is_multicast:
                yield m.start(), m.end(), keep.ip(addr)
            elif any(addr in n for n in _V6_USED):
                yield m.start(), m.end(), keep.ip(addr)


def _card_valid(text: str, m: re.Match, digits: str, first: str) -> bool:
    if digits[0] not in first or not luhn_valid(digits):
        return False
    if m.group().isdigit():  # a contiguous run: only after a card word, and never a timestamp
        start = m.start()
        return not _TIMESTAMP.match(digits) and bool(_CARD_CONTEXT.search(text, _line_window(text, start), start))
    return True


def _cards(text: str, keep: _Keep):
    # major networks start with 2-6 (Mastercard 2-series/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay 6)
    shapes = [(shape, range(13, 20), first) for shape, first, _ in _CARD_SHAPES]
    return _scan(text, _CARD_HINT, _CARD, shapes, _card_valid)


def _ssns(text: str, keep: _Keep):
    for m in _SSN.finditer(text):
        area, group, serial = m.group().split("-")
        if area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000":
            yield m.start(), m.end(), False


_DETECTORS = {"email": _emails, "phone": _phones, "ip_address": _ips, "credit_card": _cards, "us_ssn": _ssns}


def _keep(keep_documentation_values: bool, keep_private_ips: bool,
          kept_email_domains: Iterable[str] | None) -> _Keep:
    if keep_documentation_values and not keep_private_ips and kept_email_domains is None:
        return _KEEP_DEFAULT
    return _Keep(keep_documentation_values, keep_private_ips, kept_email_domains)


def _find(text: str, kinds: list[str], keep: _Keep) -> list[tuple[str, int, int]]:
    found = [(start, -(end - start), rank, kind, end, kept)
             for rank, kind in enumerate(kinds) for start, end, kept in _DETECTORS[kind](text, keep)]
    spans, last_end = [], 0
    for start, _, _, kind, end, kept in sorted(found):
        if start >= last_end:
            if not kept:
                spans.append((kind, start, end))
            last_end = end
    return spans


def _kinds(kinds: Iterable[str] | None) -> list[str]:
    kinds = list(PII_KINDS if kinds is None else kinds)
    if unknown := set(kinds) - set(_DETECTORS):
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; known: {list(PII_KINDS)}")
    return kinds


def find_pii(text: str, kinds: Iterable[str] | None = None, *, keep_documentation_values: bool = True,
             keep_private_ips: bool = False,
             kept_email_domains: Iterable[str] | None = None) -> list[tuple[str, int, int]]:
    """Non-overlapping (kind, start, end) spans, in text order. Overlaps keep the longest span (an email
    containing digits is an email), ties go to the earlier kind in `kinds`; a kept value (documentation
    address, private IP with `keep_private_ips`) takes part in that and is then left out.
    `kept_email_domains`: placeholder mail domains kept with `keep_documentation_values` (None: the defaults,
    DEFAULT_KEPT_EMAIL_DOMAINS; subdomains included)."""
    return _find(text, _kinds(kinds), _keep(keep_documentation_values, keep_private_ips, kept_email_domains))


def check_placeholders(placeholders: Mapping[str, str]) -> None:
    """A placeholder that looks like PII would be re-detected forever (and fail the "no PII left" check).
    Checked with nothing kept, so a placeholder stays valid whatever the keep settings."""
    for kind, placeholder in placeholders.items():
        if _find(f"x {placeholder} x", list(PII_KINDS), _KEEP_NOTHING):
            raise ValueError(f"PII placeholder {placeholder!r} for {kind!r} is itself detected as PII")


def redact_pii(text: str, kinds: Iterable[str] | None = None, placeholders: Mapping[str, str] | None = None,
               *, keep_documentation_values: bool = True, keep_private_ips: bool = False,
               kept_email_domains: Iterable[str] | None = None) -> tuple[str, dict[str, int]]:
    """(redacted text, count per kind). Re-scans the result so nothing detectable is left behind."""
    kinds = _kinds(kinds)
    keep = _keep(keep_documentation_values, keep_private_ips, kept_email_domains)
    subs = {**DEFAULT_PII_PLACEHOLDERS, **(placeholders or {})}
    counts = dict.fromkeys(kinds, 0)
    for _ in range(3):  # later passes are a safety net: a placeholder next to text could complete a pattern
        spans = _find(text, kinds, keep)
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
    The keep_* arguments are those of `find_pii` (PIIOptions has the same fields)."""

    name = "🔏 PII redaction"

    def __init__(self, kinds: Iterable[str] | None = None, placeholders: Mapping[str, str] | None = None,
                 keep_documentation_values: bool = True, keep_private_ips: bool = False,
                 kept_email_domains: Iterable[str] | None = None):
        super().__init__()
        self.kinds = _kinds(kinds)
        self.placeholders = {**DEFAULT_PII_PLACEHOLDERS, **(placeholders or {})}
        check_placeholders(self.placeholders)
        self.keep = {"keep_documentation_values": keep_documentation_values, "keep_private_ips": keep_private_ips,
                     "kept_email_domains": None if kept_email_domains is None else list(kept_email_domains)}

    def format(self, text: str) -> str:
        return redact_pii(text, self.kinds, self.placeholders, **self.keep)[0]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            self.stat_update(StatHints.total)
            with self.track_time():
                doc.text, counts = redact_pii(doc.text, self.kinds, self.placeholders, **self.keep)
            doc.metadata["pii_redactions"] = counts
            for kind, n in counts.items():
                if n:
                    self.stat_update(f"pii_{kind}", value=n)
            if any(counts.values()):
                self.stat_update("pii_documents")
            yield doc
