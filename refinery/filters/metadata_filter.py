"""Drops documents by their metadata: URL domain, URL pattern, title pattern, or a missing required key."""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter


def url_host(url: str) -> str | None:
    """Lowercased host name; tolerates scheme-less URLs ("example.com/page")."""
    url = url.strip()
    try:
        parts = urlsplit(url if "//" in url else f"//{url}")
        return (parts.hostname or "").rstrip(".") or None
    except ValueError:  # e.g. a malformed IPv6 netloc
        return None


class MetadataFilter(BaseFilter):
    """Reasons: "missing_metadata:<key>", "blocked_domain", "blocked_url_pattern", "blocked_title".
    Patterns are case-insensitive regexes searched anywhere in the value. Documents without a URL or title
    pass the corresponding rules."""

    name = "🏷 Metadata filter"

    def __init__(self, blocked_domains: Iterable[str] = (), blocked_url_patterns: Iterable[str] = (),
                 blocked_title_patterns: Iterable[str] = (), required_keys: Iterable[str] = (),
                 url_key: str = "url", title_key: str = "title", exclusion_writer: DiskWriter = None):
        super().__init__(exclusion_writer)
        # "www.example.com" and "example.com." name the same site as "example.com"
        self.blocked_domains = {d.strip().lower().rstrip(".").removeprefix("www.") for d in blocked_domains}
        self.blocked_domains.discard("")
        self.url_patterns = [re.compile(p, re.IGNORECASE) for p in blocked_url_patterns]
        self.title_patterns = [re.compile(p, re.IGNORECASE) for p in blocked_title_patterns]
        self.required_keys = list(required_keys)
        self.url_key, self.title_key = url_key, title_key

    def _domain_blocked(self, host: str) -> bool:
        labels = host.split(".")
        # the host itself or any parent domain: a.b.example.com -> a.b.example.com, b.example.com, example.com...
        return any(".".join(labels[i:]) in self.blocked_domains for i in range(len(labels)))

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        meta = doc.metadata
        for key in self.required_keys:
            if meta.get(key) in (None, ""):
                return False, f"missing_metadata:{key}"
        url = meta.get(self.url_key)
        if isinstance(url, str) and url:
            host = url_host(url)
            if host and self.blocked_domains and self._domain_blocked(host):
                return False, "blocked_domain"
            if any(p.search(url) for p in self.url_patterns):
                return False, "blocked_url_pattern"
        title = meta.get(self.title_key)
        if isinstance(title, str) and any(p.search(title) for p in self.title_patterns):
            return False, "blocked_title"
        return True
