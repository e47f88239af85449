"""Generated English documents for the benchmarks: plausible prose (so the quality and language filters
keep most of it), in HTML, JSONL, Markdown and text, with a known share of exact and near duplicates."""
from __future__ import annotations

import json
import random
from pathlib import Path

ADJ = ("new old main shared internal external weekly monthly annual critical minor regional central remote "
       "daily secure faulty backup primary secondary manual automatic local global quiet busy early late").split()
NOUN = ("team engineer manager pump valve sensor report budget server database backup policy invoice contract "
        "customer supplier ticket incident release network schedule audit review process warehouse truck "
        "office laptop printer badge meeting deadline forecast quarter project roadmap feature module").split()
VERB = ("reviews checks updates replaces moves approves rejects documents measures tests archives schedules "
        "repairs inspects monitors configures installs removes escalates describes").split()
PREP = "before after during with without for from into near across under behind".split()


def sentence(rng: random.Random) -> str:
    """Grammatical enough for the language and Gopher filters, and varied enough that unrelated documents
    share almost no word 5-grams (so only the planted duplicates are duplicates)."""
    return (f"The {rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(VERB)} the {rng.choice(ADJ)} {rng.choice(NOUN)} "
            f"{rng.choice(PREP)} the {rng.choice(NOUN)} and {rng.choice(VERB)} a {rng.choice(ADJ)} "
            f"{rng.choice(NOUN)}.")


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


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
