"""What the SFT and preference flows share about LLM-made data: the records they exchange (JSONL of pydantic
models), the prompt templates, the judges and their agreement, the Argilla layout of a review round trip, the
Hugging Face dataset folder layout and the checks' common parts. Neither flow is imported from here."""
