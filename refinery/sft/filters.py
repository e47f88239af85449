"""Quality filters for generated SFT records, cheap checks first and near-duplicates last.

The text filters reuse the corpus flow's detectors (PII regexes, offline fastText LID, C4 bad-words list)
so a record is judged by the same rules as the documents it came from. Every drop has a stable reason:
empty_turn, malformed, truncated, identical_input_output, too_short, too_long, pii, toxicity, language,
near_duplicate.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from refinery.filters.options import LanguageOptions
from refinery.filters.pii import find_pii, redact_pii
from refinery.llmdata.records import Dropped, SFTRecord
from refinery.sft.filter_options import (
    LengthOptions,
    NearDuplicateOptions,
    SFTFilterOptions,
    SFTPIIOptions,
    ToxicityOptions,
)

# A check returns None to keep, (reason, detail) to drop, or a replacement record to keep (PII redaction).
Check = Callable[[SFTRecord], "tuple[str, str] | SFTRecord | None"]


def filter_records(records: Iterable[SFTRecord], options: SFTFilterOptions | None = None
                   ) -> tuple[list[SFTRecord], list[Dropped]]:
    options = options or SFTFilterOptions()
    kept, dropped = [], []
    checks = _checks(options)
    for record in records:
        for check in checks:
            result = check(record)
            if isinstance(result, SFTRecord):
                record = result
            elif result is not None:
                dropped.append(Dropped(stage="filter", reason=result[0], detail=result[1], record=record))
                break
        else:
            kept.append(record)
    if options.near_duplicate.enabled:
        duplicates = near_duplicates(kept, options.near_duplicate)
        dropped += [Dropped(stage="filter", reason="near_duplicate", detail=f"cluster={cluster}", record=kept[i])
                    for i, cluster in duplicates.items()]
        kept = [r for i, r in enumerate(kept) if i not in duplicates]
    return kept, dropped


def _checks(o: SFTFilterOptions) -> list[Check]:
    checks: list[Check] = []
    if o.empty_turn:
        checks.append(_empty_turn)
    if o.malformed.enabled:
        markers = [re.compile(m, re.IGNORECASE) for m in o.malformed.markers]
        checks.append(lambda r: _malformed(r, markers))
    if o.truncated:
        checks.append(lambda r: ("truncated", "generation stopped at max_tokens") if r.meta.get("truncated") else None)
    if o.identical_input_output:
        checks.append(_identical)
    if o.length.enabled:
        checks.append(lambda r: _length(r, o.length))
    if o.pii.enabled:
        checks.append(lambda r: _pii(r, o.pii))
    if o.toxicity.enabled:
        checks.append(_toxicity_check(o.toxicity))
    if o.language.enabled and o.language.languages:
        checks.append(_language_check(o.language))
    return checks


def _empty_turn(r: SFTRecord):
    if not r.messages:
        return "empty_turn", "no messages"
    for i, turn in enumerate(r.messages):
        if not turn.content.strip():
            return "empty_turn", f"{turn.role} turn {i}"
    return None


def _malformed(r: SFTRecord, markers: list[re.Pattern]):
    roles = [t.role for t in r.messages]
    body = roles[1:] if roles[:1] == ["system"] else roles
    expected = ["user", "assistant"] * (len(body) // 2)
    if not body or body != expected:
        return "malformed", f"role order {roles}"
    for i, turn in enumerate(r.messages):
        for marker in markers:
            if m := marker.search(turn.content):
                return "malformed", f"{turn.role} turn {i}: template marker {m.group()[:40]!r}"
    return None


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _identical(r: SFTRecord):
    for question, answer in zip(r.messages, r.messages[1:]):
        if question.role == "user" and answer.role == "assistant" and \
                _normalise(question.content) == _normalise(answer.content):
            return "identical_input_output", "assistant repeats the user turn"
    return None


def _length(r: SFTRecord, o: LengthOptions):
    bounds = {"user": (o.min_user_chars, o.max_user_chars), "assistant": (o.min_assistant_chars, o.max_assistant_chars)}
    for i, turn in enumerate(r.messages):
        if turn.role not in bounds:
            continue
        low, high = bounds[turn.role]
        n = len(turn.content.strip())
        if n < low:
            return "too_short", f"{turn.role} turn {i}: {n} < {low} chars"
        if n > high:
            return "too_long", f"{turn.role} turn {i}: {n} > {high} chars"
    return None


def _pii(r: SFTRecord, o: SFTPIIOptions):
    found = {kind for turn in r.messages for kind, _, _ in find_pii(turn.content, o.kinds)}
    if not found:
        return None
    if o.action == "drop":
        return "pii", ",".join(sorted(found))
    totals: dict[str, int] = {}
    turns = []
    for turn in r.messages:
        text, counts = redact_pii(turn.content, o.kinds, o.placeholders)
        turns.append(turn.model_copy(update={"content": text}))
        for kind, n in counts.items():
            totals[kind] = totals.get(kind, 0) + n
    redactions = {k: n for k, n in totals.items() if n}
    return r.model_copy(update={"messages": turns, "meta": {**r.meta, "pii_redactions": redactions}})


def _toxicity_check(o: ToxicityOptions) -> Check:
    from refinery.filters.bad_words import OfflineBadWordsFilter

    # the corpus filter's own compiled C4 pattern (whole words in lowercased text), built once
    pattern = OfflineBadWordsFilter(languages=["en"], extra_words=o.extra_words, allow_words=o.allow_words,
                                    use_default_allowlist=o.use_default_allowlist)._get_badwords("en")

    def check(r: SFTRecord):
        for turn in r.messages:
            if m := pattern.search(turn.content.lower()):
                return "toxicity", f"{turn.role}: {m.group(1)!r}"
        return None
    return check


def _language_check(o: LanguageOptions) -> Check:
    from datatrove.data import Document

    from refinery.filters.language import OfflineFastTextLID

    lid = OfflineFastTextLID(o.languages, model_path=o.model_path)

    def check(r: SFTRecord):
        # the whole conversation: short prompts alone are too little text for a reliable guess
        text = "\n".join(t.content for t in r.messages if t.role != "system")
        (best, best_score), scores = lid.predict(Document(text=text, id=r.id))
        if max(scores.values(), default=0.0) > o.threshold:
            return None
        return "language", f"{best}={best_score:.2f}"
    return check


def near_duplicates(records: list[SFTRecord], o: NearDuplicateOptions) -> dict[int, str]:
    """{index: id of the first record of its cluster} for every record after the first of a near-duplicate
    cluster. datatrove's own shingling and signatures (the corpus dedup's hashing), bucketed in memory: a few
    thousand records do not need its four on-disk stages. A record joins the cluster of the first earlier
    record sharing a band, and its bands point there too, so clusters chain as datatrove's do."""
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.utils.hashing import create_hash_func
    from datatrove.utils.text import simplify_text

    from refinery.dedup.minhash import WhitespaceTokenizer, minhash_config

    config = minhash_config(o.n_grams, o.num_buckets, o.hashes_per_bucket, o.seed)
    # the output folder is never written: only get_shingles/get_signature are used
    hasher = MinhashDedupSignature(output_folder="memory://sft-near-duplicates", config=config,
                                   language=WhitespaceTokenizer())
    hash_text = create_hash_func(config.hash_config)
    bands: dict[tuple, str] = {}
    duplicates: dict[int, str] = {}
    for i, record in enumerate(records):
        text = "\n".join(t.content for t in record.messages if t.role != "system")
        shingles = hasher.get_shingles(text)
        if shingles.size == 0:  # fewer words than n_grams: the whole text is the one shingle
            simple = simplify_text(text, config.norm_config)
            if not simple:
                continue
            shingles = np.array([[hash_text(simple)]], dtype=np.uint64)
        keys = [(band, tuple(sig)) for band, sig in enumerate(hasher.get_signature(shingles))]
        cluster = next((bands[k] for k in keys if k in bands), None)
        if cluster is not None:
            duplicates[i] = cluster
        for k in keys:
            bands.setdefault(k, cluster or record.id)
    return duplicates
