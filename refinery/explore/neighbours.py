"""`refinery neighbours`: the k records most similar to one record (or to a query text), exact cosine over the
table's cached vectors, as lines a person reads or JSON."""
from __future__ import annotations

import numpy as np

from refinery.explore.tables import ExploreTable
from refinery.explore.vectors import nearest


def row_of(table: ExploreTable, record_id: str) -> int | None:
    hits = np.nonzero(table.frame["id"].to_numpy() == record_id)[0]
    return int(hits[0]) if len(hits) else None


def neighbours(table: ExploreTable, vectors: np.ndarray, query: np.ndarray, k: int, self_row: int | None = None
               ) -> list[dict]:
    """The k rows nearest to `query` (one vector), best first; `self_row` (the record asked about) is put first
    even when an exact copy of it has the same similarity."""
    idx, sims = nearest(vectors, query.reshape(1, -1), k)
    pairs = list(zip(idx[0].tolist(), sims[0].tolist()))
    if self_row is not None:
        own = [p for p in pairs if p[0] == self_row] or [(self_row, float(vectors[self_row] @ query))]
        pairs = (own + [p for p in pairs if p[0] != self_row])[:k]
    frame = table.frame
    out = []
    for rank, (i, sim) in enumerate(pairs, 1):
        row = frame.iloc[i]
        out.append({"rank": rank, "id": row["id"], "similarity": round(float(sim), 4), "label": _label(row),
                    "first_line": first_line(row["text"])})
    return out


def _label(row) -> str:
    """What kind of record: SFT method (and status when dropped), or a document's drop/format."""
    if "method" in row:
        status = row.get("status")
        return row["method"] + (f" [{status}]" if status and status != "kept" else "")
    return " ".join(str(row[c]) for c in ("format", "source") if c in row and row[c])


def first_line(text: str, width: int = 100) -> str:
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= width else line[:width - 1] + "…"
    return ""


def format_lines(hits: list[dict]) -> list[str]:
    id_width = max((len(h["id"]) for h in hits), default=2)
    label_width = min(max((len(h["label"]) for h in hits), default=5), 60)
    return [f"{h['rank']:>3}  {h['similarity']:.3f}  {h['id']:<{id_width}}  {h['label'][:label_width]:<{label_width}}  "
            f"{h['first_line']}" for h in hits]
