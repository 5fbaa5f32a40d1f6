"""The one fake engine of the tests: its replies are a function of the request alone, it records what
it was asked, and it can be told to fail part-way, as an engine on a killed run. Tests only."""

from __future__ import annotations

from collections.abc import Callable

from harness.contracts import Completion, Engine, GenerationRequest

#: what the label-summary prompts ask for; the fake answers them with `summary`
SUMMARY_PROMPT = "short description of the intent"


def prompt_text(request: GenerationRequest) -> str:
    return request.messages[-1].content if request.messages else request.prompt


class FakeEngine(Engine):
    """`reply` is a string, or a function `(request, index) -> str | Completion`; label-summary
    requests get `summary` (None: they go to `reply` too). Each batch's size is in `batches`, every
    request in `requests`; after `fail_after` batches, the next one raises."""

    def __init__(self, reply: str | Callable[[GenerationRequest, int], str | Completion] = "", *, chat: bool = True,
                 fingerprint: str = "fake@1", batch_size: int = 64, summary: str | None = "This intent involves a thing.",
                 tokens: tuple[int, int] = (10, 5), fail_after: int | None = None):
        self.reply = reply
        self.is_chat = chat
        self.fingerprint = fingerprint
        self.batch_size = batch_size
        self.summary = summary
        self.tokens = tokens
        self.fail_after = fail_after
        self.batches: list[int] = []
        self.requests: list[GenerationRequest] = []

    def generate(self, requests):
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            raise RuntimeError("engine lost")
        self.batches.append(len(requests))
        self.requests.extend(requests)
        return [[self._completion(r, i) for i in range(r.n)] for r in requests]

    def _completion(self, request: GenerationRequest, i: int) -> Completion:
        if self.summary is not None and SUMMARY_PROMPT in prompt_text(request):
            return Completion(self.summary, *self.tokens)
        out = self.reply(request, i) if callable(self.reply) else self.reply
        return out if isinstance(out, Completion) else Completion(out, *self.tokens)
