"""Argilla 2.x settings pieces (rg.Settings serialised), shared by the SFT review and preference annotation
exports."""
from __future__ import annotations


def field(name: str, kind: str, title: str, required: bool = True) -> dict:
    return {"name": name, "title": title, "required": required, "description": None,
            "settings": {"type": kind, "use_markdown": kind == "chat"}, "type": kind}


def question(name: str, title: str, settings: dict, required: bool = True) -> dict:
    return {"name": name, "title": title, "description": None, "required": required,
            "settings": settings, "type": settings["type"]}
