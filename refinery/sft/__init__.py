"""Synthetic SFT data from domain documents: chunking, generation methods, filters, judging, exports."""
