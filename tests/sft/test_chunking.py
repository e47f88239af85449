from refinery.sft.chunking import ChunkOptions, chunk_documents, chunk_text


def test_chunks_pack_paragraphs_and_cut_long_ones_at_sentences():
    para = "The depot ships orders within two days. " * 40  # ~1600 chars, one paragraph
    text = f"Intro paragraph that is short.\n\n{para}\n\nClosing words."
    chunks = chunk_text(text, 500)
    assert all(len(c) <= 500 for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert all(c.rstrip().endswith((".", "words.")) for c in chunks)  # sentence boundaries, no mid-word cuts


def test_chunk_ids_are_stable_and_pii_redacted_on_request():
    doc = {"id": "d1", "text": "Contact jane.doe@acme-corp.com for the returns policy. " * 10,
           "metadata": {"source": "2026-11-01/policy.html"}}
    opts = ChunkOptions(max_chars=300, min_chars=50)
    first = list(chunk_documents([doc], opts, redact=True, drop="2026-11-01"))
    again = list(chunk_documents([doc], opts, redact=True, drop="2026-11-01"))
    assert [c.id for c in first] == [c.id for c in again]
    assert all("@acme-corp.com" not in c.text and c.source == "2026-11-01/policy.html" for c in first)
    assert "jane.doe@acme-corp.com" in next(chunk_documents([doc], opts, redact=False)).text


def test_short_chunks_and_per_document_cap():
    doc = {"id": "d", "text": "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10)), "metadata": {}}
    chunks = list(chunk_documents([doc], ChunkOptions(max_chars=400, min_chars=100, max_chunks_per_document=3), False))
    assert len(chunks) == 3 and [c.index for c in chunks] == [0, 1, 2]
    tiny = {"id": "t", "text": "Just a footer.", "metadata": {}}
    assert list(chunk_documents([tiny], ChunkOptions(), False)) == []
