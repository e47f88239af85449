"""Text embeddings that work offline: a sentence-embedding model shipped inside a package (all-MiniLM-L6-v2)
by default, an OpenAI-compatible or SageMaker embeddings endpoint in production; cached per text hash
under the storage root. Used by the semantic layer: SFT semantic dedup, the quality classifier, exploration."""
