"""Generated English documents for the benchmarks: plausible prose (so the quality and language filters
keep most of it), in HTML, JSONL, Markdown and text, with a known share of exact and near duplicates."""
from __future__ import annotations

import json
import random
from pathlib import Path

SUBJECTS = ["The maintenance team", "Our support engineers", "The finance group", "Each site manager",
            "The security office", "The data platform team", "Every new hire", "The operations lead"]
VERBS = ["reviews", "documents", "measures", "approves", "schedules", "escalates", "archives", "tests"]
OBJECTS = ["the incident reports", "the quarterly budget", "the backup procedure", "the pump inspection logs",
           "the access requests", "the retention policy", "the release checklist", "the customer feedback"]
TAILS = ["before the end of each week.", "with the help of the on-call engineer.", "so that nothing is lost.",
         "and shares the results with the whole department.", "according to the written guidelines.",
         "because the auditors asked for it last year.", "whenever a new version of the system is deployed.",
         "and records every decision in the shared tracker."]


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}"
                    for _ in range(sentences))


def document(rng: random.Random) -> str:
    return "\n\n".join(paragraph(rng, rng.randint(3, 7)) for _ in range(rng.randint(3, 8)))


def near_copy(rng: random.Random, text: str, rate: float = 0.03) -> str:
    words = text.split(" ")
    for _ in range(max(1, int(rate * len(words)))):
        words[rng.randrange(len(words))] = rng.choice(["notably", "also", "carefully", "usually"])
    return " ".join(words)


def html_page(title: str, body: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a> | <a href='/docs'>Docs</a>"
            f"</nav><article><h1>{title}</h1>{paras}</article><footer>Copyright Acme Corp. All rights reserved."
            f"</footer></body></html>")


def write_corpus(root: Path, drops: int, docs_per_drop: int, seed: int = 0, jsonl_per_file: int = 500) -> dict:
    """Writes `drops` drop folders; returns counts. ~5% exact and ~5% near duplicates of earlier texts."""
    rng = random.Random(seed)
    history: list[str] = []
    total_bytes = 0
    for d in range(drops):
        folder = root / f"drop-{d:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        for i in range(docs_per_drop):
            roll = rng.random()
            if history and roll < 0.05:
                text = rng.choice(history)
            elif history and roll < 0.10:
                text = near_copy(rng, rng.choice(history))
            else:
                text = document(rng)
                if len(history) < 5000:
                    history.append(text)
            kind = i % 4
            if kind == 0:
                path, data = folder / "html" / f"page-{i:06d}.html", html_page(f"Handbook page {i}", text)
            elif kind == 1:
                path, data = folder / "md" / f"note-{i:06d}.md", f"# Note {i}\n\n{text}\n"
            elif kind == 2:
                path, data = folder / "txt" / f"memo-{i:06d}.txt", text
            else:
                lines.append(json.dumps({"text": text, "url": f"https://intranet.acme.example/kb/{d}/{i}"}))
                if len(lines) >= jsonl_per_file:
                    total_bytes += _write(folder / "jsonl" / f"kb-{i:06d}.jsonl", "\n".join(lines) + "\n")
                    lines = []
                continue
            total_bytes += _write(path, data)
        if lines:
            total_bytes += _write(folder / "jsonl" / "kb-last.jsonl", "\n".join(lines) + "\n")
    return {"documents": drops * docs_per_drop, "bytes": total_bytes}


def _write(path: Path, data: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8")
    path.write_bytes(raw)
    return len(raw)
