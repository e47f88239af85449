"""One LLM client interface (messages in; text or validated JSON out; usage counted) over several backends."""
