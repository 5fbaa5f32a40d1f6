"""Prompt token ids for the local engines, built once, so that a prompt carries exactly one BOS.

A chat template renders `<bos>` itself (Gemma, Llama 3); the rendered text is therefore tokenized
without the tokenizer's special tokens, as `apply_chat_template(..., tokenize=True)` does. A plain
prompt gets the tokenizer's own special tokens (Gemma's tokenizer adds one `<bos>`). The ids go to
the engine as ids: handing it text would let it add a second BOS in front of the template's.
"""

from __future__ import annotations

from typing import Any

from harness.contracts import GenerationRequest


def prompt_text(tokenizer: Any, request: GenerationRequest, is_chat: bool) -> tuple[str, bool]:
    """The prompt as text and whether the tokenizer should add its special tokens to it."""
    if request.messages is not None:
        if not is_chat:  # a base model gets the messages as plain text
            return "\n\n".join(m.content for m in request.messages), True
        msgs = [{"role": m.role, "content": m.content} for m in request.messages]
        return tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False), False
    return request.prompt or "", True


def prompt_ids(tokenizer: Any, request: GenerationRequest, is_chat: bool) -> list[int]:
    """The prompt's token ids, starting with at most one BOS."""
    text, add_special = prompt_text(tokenizer, request, is_chat)
    ids = list(tokenizer(text, add_special_tokens=add_special)["input_ids"])
    bos = tokenizer.bos_token_id
    while bos is not None and len(ids) > 1 and ids[0] == bos and ids[1] == bos:
        ids.pop(0)  # a template or prompt that spells out the BOS the tokenizer also added
    return ids


def context_overflow(n_prompt: int, max_new_tokens: int, max_context: int | None) -> str | None:
    """Why a prompt of `n_prompt` tokens and its generation budget do not fit the context; None if they do."""
    if max_context is None or n_prompt + max_new_tokens <= max_context:
        return None
    return (f"prompt of {n_prompt} tokens + {max_new_tokens} new tokens exceeds the model's context of "
            f"{max_context} tokens")
