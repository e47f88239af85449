"""Argilla 2.x layout shared by the SFT review and the preference annotation round trips: settings pieces
(rg.Settings serialised) out, and the responses of exported records back in."""
from __future__ import annotations


def field(name: str, kind: str, title: str, required: bool = True) -> dict:
    return {"name": name, "title": title, "required": required, "description": None,
            "settings": {"type": kind, "use_markdown": kind == "chat"}, "type": kind}


def question(name: str, title: str, settings: dict, required: bool = True) -> dict:
    return {"name": name, "title": title, "description": None, "required": required,
            "settings": settings, "type": settings["type"]}


def responses_by_user(responses) -> list[dict]:
    """Argilla responses in any of the SDK's shapes -> [{"status", "values": {question: value}}] per user:
    Record.to_dict ({question: [{value, user_id, status?}]}), the API's user responses
    ([{values: {question: {value}}, status, user_id}]) or flat rg.Response dicts ([{question_name, value, ...}])."""
    by_user: dict[str, dict] = {}
    if isinstance(responses, dict):
        items = [(q, r) for q, rs in responses.items() for r in rs]
    else:
        items = []
        for r in responses:
            if "values" in r:
                by_user[str(r.get("user_id", len(by_user)))] = {
                    "status": r.get("status"), "values": {q: (v or {}).get("value") for q, v in r["values"].items()}}
            else:
                items.append((r["question_name"], r))
    for name, r in items:
        answer = by_user.setdefault(str(r.get("user_id")), {"status": r.get("status"), "values": {}})
        answer["values"][name] = r.get("value")
        answer["status"] = answer["status"] or r.get("status")
    return list(by_user.values())
