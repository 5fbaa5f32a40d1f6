"""Prompt templates live in `prompts/*.txt`, readable and editable as text; this module fills them."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from harness.types import Message


@cache
def template(name: str) -> str:
    return files("plugins.strategies").joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def show_label(label: str) -> str:
    return label.replace("_", " ")


def summary_clause(summary: str | None) -> str:
    return f", which means: {summary.rstrip('.')}" if summary else ""


def generation_chat(*, description: str, text_kind: str, language: str, label: str, count: int,
                    summary: str | None, demos: list[str]) -> tuple[Message, ...]:
    demo_block = ""
    if demos:
        demo_block = "\n" + template("chat_demos").format(demos="\n".join(demos)).rstrip()
    system = template("chat_system").format(text_kind=text_kind, language=language, label=show_label(label))
    user = template("chat_user").format(description=description, count=count, language=language, label=show_label(label),
                                        summary_clause=summary_clause(summary), demo_block=demo_block)
    return (Message("system", system), Message("user", user))


def generation_base(*, description: str, text_kind: str, language: str, label: str, summary: str | None,
                    demos: list[str]) -> str:
    """A numbered list the base model continues: the demos, then the next number, open."""
    numbered = "\n".join(f"{i}. {d}" for i, d in enumerate(demos, 1))
    numbered = (numbered + "\n" if numbered else "") + f"{len(demos) + 1}."
    return template("base_generate").format(description=description, text_kind=text_kind, language=language,
                                            label=show_label(label), summary_clause=summary_clause(summary),
                                            numbered=numbered)


def revision(chat: bool, *, description: str, language: str, label: str, summary: str | None, text: str):
    fields = dict(description=description, language=language, label=show_label(label),
                  summary_clause=summary_clause(summary), text=text)
    if chat:
        return (Message("user", template("chat_revision").format(**fields)),)
    return template("base_revision").format(**fields)


def summary(chat: bool, *, description: str, label: str, examples: list[str]):
    fields = dict(description=description, label=show_label(label), examples="\n".join(f"- {e}" for e in examples))
    if chat:
        return (Message("user", template("chat_summary").format(**fields)),)
    return template("base_summary").format(**fields)
