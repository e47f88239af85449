"""Deduplication blocks: exact documents and CCNet paragraphs (hash sets), MinHash+LSH near-duplicates
and sentence spans (datatrove), all incremental against the indexes of earlier drops."""
