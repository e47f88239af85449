"""The corpus flow: raw drops -> extracted -> filtered -> deduplicated -> tokenized shards."""
