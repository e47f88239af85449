"""Exploration of a dataset with its embeddings: `refinery explore <target>` (a 2-D map in Embedding Atlas,
coloured and filtered by metadata, each record's provenance on click) and `refinery neighbours <id>` (the k most
similar records, to trace a bad sample). targets.py names what can be explored, tables.py turns it into one row
per record, vectors.py embeds (cached), finds neighbours and projects, serve.py hands the table to Embedding Atlas."""
