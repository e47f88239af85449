"""Deduplication options (a section of the corpus configuration)."""
from __future__ import annotations

from pydantic import Field

from refinery.options import StrictOptions


class MinhashOptions(StrictOptions):
    enabled: bool = True
    n_grams: int = 5  # word 5-grams after datatrove's normalisation, of the words with a letter (minhash.py)
    # 20 bands x 8 rows: P(candidate) >= 0.97 at Jaccard 0.8, ~0 below 0.4 (bench/near_dup.py measures it)
    num_buckets: int = 20
    hashes_per_bucket: int = 8
    seed: int = 1
    # a candidate pair is clustered only when its signatures agree on at least this share of hashes (the
    # estimated Jaccard; standard error ~0.03 at 0.8 with 160 hashes). Below the 0.8 goal so that pairs at
    # J 0.8 keep passing; 0 clusters every LSH candidate as datatrove does
    verify_threshold: float = Field(0.7, ge=0, le=1)
    # words for shingles: "whitespace" (fast; the text is already normalised) or a language code for
    # datatrove's spaCy/NLTK word tokenizer (needed for scripts written without spaces, e.g. zh, ja)
    tokenizer: str = "whitespace"


class SentenceDedupOptions(StrictOptions):
    enabled: bool = False  # finer than documents but can leave incoherent paragraphs (Llama 3 does it)
    n_sentences: int = 3  # spans of this many sentences are hashed and removed when repeated
    min_doc_words: int = 50  # documents left shorter than this are dropped


class SemanticDocumentOptions(StrictOptions):
    """Documents within `threshold` cosine of an earlier one (refinery/dedup/semantic.py); runs after MinHash."""

    enabled: bool = False  # costs embedding every document (bench/embeddings.py): worth it where rewordings matter
    # a real page with 1 paragraph in 6 left out and common verbs replaced: 0.91-0.99; distinct pages of the
    # realdocs slice at most 0.66 (tests/dedup/test_dedup_stage.py)
    threshold: float = Field(0.9, gt=0, le=1)
    max_windows: int = Field(16, ge=1)  # windows of ~1,200 characters embedded per document, averaged
    # the model is the top-level `embeddings:` section's, as for explore and the quality classifier


class DedupOptions(StrictOptions):
    exact: bool = True  # whole-document hash (whitespace-trimmed text)
    paragraphs: bool = True  # CCNet: first 64 bits of SHA-1 of each normalised paragraph (line)
    min_paragraph_chars: int = 20  # shorter lines (headings, table rules) are never removed
    minhash: MinhashOptions = Field(default_factory=MinhashOptions)
    sentences: SentenceDedupOptions = Field(default_factory=SentenceDedupOptions)
    semantic: SemanticDocumentOptions = Field(default_factory=SemanticDocumentOptions)
