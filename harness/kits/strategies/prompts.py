"""Prompt templates live in `prompts/*.txt`, readable and editable as text; this module fills them.

The chat templates are the reference code's wording (tanikina/multilingual-generation): the raw
label, the language's English name, `per_class + 2` lines asked for, "which has the following
meaning: <summary>" with SL, and the revision's system and user messages. Every difference from
the reference is listed in the README's method table. Base models (no chat template) get a numbered
list to continue; the reference has no such prompt.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from harness.contracts import Message
from harness.store.cache import digest

TEMPLATES = ("chat_system", "chat_user", "chat_user_demos", "description", "chat_revision_system", "chat_revision",
             "chat_summary_system", "chat_summary", "base_generate", "base_revision", "base_summary")


@cache
def template(name: str) -> str:
    return files("harness.kits.strategies").joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8")


def templates_digest() -> str:
    """Identity of every template's text: a generation cell made from other prompts is another cell."""
    return digest([template(n) for n in TEMPLATES])[:16]


def description_block(description: str, text_kind: str) -> str:
    return template("description").format(description=description, text_kind=text_kind)


def demo_block(demos: list[str], faithful: bool) -> str:
    """One demo per line; the reference interpolates the Python list (`['a', "b's"]`), which
    `--faithful` keeps and which models then imitate on one line."""
    return str(list(demos)) if faithful else "\n".join(demos)


def generation_chat(*, language: str, label: str, count: int, summary: str | None, demos: list[str],
                    description: str = "", faithful: bool = False) -> tuple[Message, ...]:
    clause = f"which has the following meaning: {summary}" if summary else ""
    fields = dict(count=count, language=language, label=label, summary_clause=clause)
    if demos:
        user = template("chat_user_demos").format(demos=demo_block(demos, faithful), **fields)
    else:
        user = template("chat_user").format(**fields)
    return (Message("system", template("chat_system").format(language=language)), Message("user", description + user))


def generation_base(*, language: str, label: str, summary: str | None, demos: list[str],
                    description: str = "") -> str:
    """A numbered list the base model continues: the demos, then the next number, open."""
    numbered = "\n".join(f"{i}. {d}" for i, d in enumerate(demos, 1))
    numbered = (numbered + "\n" if numbered else "") + f"{len(demos) + 1}."
    clause = f", which has the following meaning: {summary}" if summary else ""
    return template("base_generate").format(description=description, language=language, label=label,
                                            summary_clause=clause, numbered=numbered)


def revision(chat: bool, *, language: str, label: str, summary: str, text: str, description: str = ""):
    """The reviser always judges with the label's summary, as the reference does."""
    fields = dict(language=language, label=label, summary=summary, text=text)
    if chat:
        return (Message("system", template("chat_revision_system").format(**fields)),
                Message("user", description + template("chat_revision").format(**fields)))
    return template("base_revision").format(description=description, **fields)


def summary(chat: bool, *, label: str, examples: list[str]):
    fields = dict(label=label, examples="; ".join(examples))
    if chat:
        return (Message("system", template("chat_summary_system")), Message("user", template("chat_summary").format(**fields)))
    return template("base_summary").format(**fields)
