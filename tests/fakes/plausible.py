"""A responder that answers every bundled prompt template the way a competent model would, keyed on
the template's wording: for method tests (ScriptedBackend) and flow tests (the fake HTTP servers)."""
import re

from refinery.llm.types import LLMRequest, Message

NEAR_COPY = "Summarise the following email in two short sentences for a busy manager."  # seed-01, nearly


def _given_prompt(text: str) -> str:
    return text.split("#The Given Prompt#:\n")[1].rsplit("\n\n#Rewritten Prompt#:", 1)[0]


def plausible(req: LLMRequest) -> str:
    """Answers each template the way a competent model would, keyed on its wording."""
    system, last, pre = req.system or "", req.messages[-1].content, req.prefill or ""
    if pre == "Rating:":  # the UltraFeedback judge templates
        return " 4\nRationale: The answer follows the instruction and is supported by the reference."
    if pre == "Question:":
        if "31 March" in (req.context or ""):
            return " When does carried-over leave expire?\nAnswer: NOT IN TEXT"
        subject = req.context.split()[0].lower()
        return f" What does the {subject} policy require?\nAnswer: It requires {req.context[-30:]}"
    if pre.startswith("Task "):
        if "urgency of this customer complaint" in last:  # round 2: the pool holds round 1's tasks
            return (" Explain the difference between gross margin and net margin to a sales team.\n"
                    "Task: Decide whether this support ticket is about billing or a technical fault.")
        return (" Classify the urgency of this customer complaint as high, medium or low.\n"
                "Task: Write an agenda for a two-hour project kickoff meeting with a new supplier.\n"
                f"Task: {NEAR_COPY}\nTask: Draw a diagram of the reporting lines in our department.")
    if pre == "Is it classification?":
        task = last.rsplit("Task:", 1)[1]
        return " Yes" if re.search(r"classify|whether", task, re.I) else " No"
    if pre == "Input:":
        return " Project: CRM migration, 6 weeks, budget 40k EUR.\nOutput: 1. Welcome 2. Goals 3. Timeline 4. Budget"
    if pre == "Class label:":
        return " high\nInput: Our whole team has been locked out of the billing system since this morning."
    if "Prompt Rewriter" in last:
        given = _given_prompt(last)
        if "LEAK" in given:
            return "#Rewritten Prompt#:\nHere is the rewritten prompt based on the given prompt."
        if "SAME" in given:
            return given
        if "SHORT" in given:
            return "Do it."
        return f"#Rewritten Prompt#:\n{given} Explain each step and give one concrete example."
    if "Prompt Creator" in last:
        given = last.split("#Given Prompt#:\n")[1].split("\n")[0]
        return f"Draft a checklist for a task like this one: {given[:60]}"
    if "Response Rewriter" in last:
        return "Improved: " + last.split("#Given Response#:\n")[1].split("\n\n#Rewritten Response#:")[0]
    if system.startswith("You are a helpful, knowledgeable assistant"):
        return "Sorry, I cannot help with that." if "SORRY" in last else f"A careful answer to: {last[:50]}"
    if "subtopics of" in last:
        topic = re.search(r'subtopics of "(.+?)"', last).group(1)
        return f" {topic} basics\n2. {topic} in practice\n3. {topic} pitfalls"
    if pre == "1.":
        topic = re.search(r'about "(.+?)"', last).group(1)
        return f" How should I handle {topic} for a new client?"
    if system.startswith("You play a person"):
        persona = re.search(r"Who you are: (.+?)\.\n", system).group(1)
        return "   " if "EMPTY" in system else f"User: As {persona}, can you tell me more? (seed {req.seed})"
    if system.startswith("You are a helpful assistant for the organisation"):
        return f"Certainly. You asked: {last[:40]}"
    if not system and not pre:  # a plain chat prompt: the preference loop's policy answering a held-out prompt
        return f"A careful answer to: {last[:50]}"
    raise AssertionError(f"unexpected request: {last[:200]}")


def anthropic_request(body: dict) -> LLMRequest:
    """The LLMRequest an AnthropicBackend body came from: the cache_control block is the context, a
    trailing assistant message the prefill."""
    blocks = body.get("system") or []
    if isinstance(blocks, str):
        blocks = [{"text": blocks}]
    context = next((b["text"] for b in blocks if b.get("cache_control")), None)
    system = "\n\n".join(b["text"] for b in blocks if not b.get("cache_control")) or None
    messages = [Message(role=m["role"], content=m["content"] if isinstance(m["content"], str)
                        else "".join(c.get("text", "") for c in m["content"])) for m in body["messages"]]
    prefill = messages.pop().content if messages[-1].role == "assistant" else None
    return LLMRequest(model=body["model"], messages=tuple(messages), system=system, context=context,
                      prefill=prefill, max_tokens=body.get("max_tokens", 512))


def plausible_anthropic(body: dict) -> str:
    return plausible(anthropic_request(body))
