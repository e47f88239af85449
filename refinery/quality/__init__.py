"""Quality classifier trained on LLM labels (FineWeb-Edu's recipe for internal documents): sample deduplicated
documents, have the LLM score them 0-5 with an additive rubric, fit a light head on their embeddings, save it
as a versioned artifact, and let the corpus filter stage drop documents it scores under a threshold."""
