"""An OpenAI-compatible HTTP engine (`openai:<model>@<base url>`) for a running vLLM server or any
server speaking the same API.

Every request of a batch, plain or chat, goes out as its own call with its own seed, `concurrency` of
them at a time: the server batches concurrent requests itself, and one call per prompt is the only way
the API lets each prompt carry its own seed. A long run against a shared server meets overload (429,
503), restarts and dropped connections, so each call is retried with exponential backoff and fails
with one line naming the server only when retrying cannot help. `repetition_penalty` is the vLLM
extension of the API."""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import openai

from harness._builtin_kit import engine_identity, identity_label
from harness.api import BenchError, Completion, Engine, GenerationRequest

#: what a `/v1/models` entry says about the weights behind a model id (vLLM: `root` is the path or
#: hub id it loaded); `created` is left out, vLLM stamps it with the time of each request
SERVED_FIELDS = ("id", "owned_by", "root", "parent", "max_model_len")

#: the first retry waits about this many seconds, each further one twice as long, up to RETRY_MAX_DELAY:
#: the default 8 retries wait about 90 s in all, long enough for a server to restart
RETRY_DELAY = 0.5
RETRY_MAX_DELAY = 30.0
#: a server's Retry-After is obeyed up to this many seconds; a longer one is cut to it
RETRY_AFTER_MAX = 60.0


def parse_target(arg: str) -> tuple[str, str]:
    model, sep, base = arg.rpartition("@")
    shape = f"openai model {arg!r} must look like openai:<model>@http://host:port/v1"
    if not sep or not model or not base.startswith(("http://", "https://")):
        raise BenchError(shape)
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise BenchError(f"{shape} ({exc})") from None
    if not parts.hostname:
        raise BenchError(f"{shape} (no host in {base!r})")
    return model, base.rstrip("/")


def openai_identity(model: str, base: str, options: Mapping[str, Any], served: Mapping[str, Any] | None) -> dict:
    """An OpenAI-compatible server's identity (harness/kits/engines/identity.py): the model id, the host
    serving it, a revision the user states and what the server's `/v1/models` entry reports. The
    server decides dtype, device and quantization, so they are recorded as unknown (None)."""
    weights: dict[str, Any] = {"source": "server", "model": model, "host": urlsplit(base).netloc}
    if options.get("revision"):
        weights["revision"] = str(options["revision"])
    if served:
        weights["served"] = {k: served[k] for k in SERVED_FIELDS if served.get(k) is not None}
    return engine_identity("openai-http", None, options.get("dtype"), None, options.get("quantization"), weights)


def retryable(status: int) -> bool:
    """Statuses a later identical request can succeed on: timeout, conflict, rate limit, server errors."""
    return status in (408, 409, 429) or status >= 500


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        return min(max(float(headers.get("retry-after", "")), 0.0), RETRY_AFTER_MAX)
    except ValueError:
        return None  # absent, or an HTTP date: plain backoff


class _Batch:
    """What the requests of one `generate` call share: the first error that retrying cannot fix, which
    stops the other requests' retries and is the one reported."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BenchError | None = None
        self._lock = threading.Lock()

    def fail(self, message: str) -> BenchError:
        with self._lock:
            if self.error is None:
                self.error = BenchError(message)
        self.stop.set()
        return self.error


class OpenAIEngine(Engine):
    def __init__(self, arg: str, options: Mapping[str, Any] | None = None):
        options = dict(options or {})
        self.model, self.base = parse_target(arg)
        self.is_chat = bool(options.get("chat", False))
        self.batch_size = int(options.get("batch_size", 64))
        self.timeout = float(options.get("timeout", 120))
        self.connect_timeout = float(options.get("connect_timeout", 10))
        self.max_retries = int(options.get("max_retries", 8))
        self.concurrency = int(options.get("concurrency", 16))
        self.api_key_env = str(options.get("api_key_env", "OPENAI_API_KEY"))
        api_key = os.environ.get(self.api_key_env, "")
        # retries are done here (`_call`), not by the client, so that every failure is reported the same
        # way and a fatal error in one request stops the others' retries
        self.client = openai.OpenAI(base_url=self.base, api_key=api_key or "EMPTY", max_retries=0,
                                    timeout=openai.Timeout(self.timeout, connect=self.connect_timeout))
        # the server decides the weights: its model id, host, a revision the user states and what
        # the server reports about the model identify them
        self.served = self._served_model()
        self.identity = openai_identity(self.model, self.base, options, self.served)
        self.fingerprint = identity_label(self.identity)

    def _served_model(self) -> dict | None:
        """The server's `/v1/models` entry for this model, or None when the server does not answer.
        A short timeout and one retry: a missing report only leaves `served` out of the identity."""
        probe = self.client.with_options(max_retries=1, timeout=openai.Timeout(
            min(self.timeout, 10.0), connect=min(self.connect_timeout, 5.0)))
        try:
            data = json.loads(probe.models.with_raw_response.list().text)
        except (openai.OpenAIError, ValueError):
            return None
        for entry in data.get("data", []) if isinstance(data, dict) else []:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                return entry
        return None

    def info(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "identity": self.identity, "served": self.served,
                "batch_size": self.batch_size, "chat": self.is_chat}

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return min(RETRY_DELAY * 2 ** (retry - 1), RETRY_MAX_DELAY) * random.uniform(0.75, 1.0)

    def _status_problem(self, path: str, exc: openai.APIStatusError) -> str:
        """One line for a status that retrying cannot fix, with what to change."""
        code = exc.status_code
        if code in (401, 403):
            fix = f"set the server's API key in ${self.api_key_env} (option api_key_env names the variable)"
        elif code == 404:
            fix = (f"check the model name {self.model!r} (GET {self.base}/models lists what the server serves) "
                   "and that the URL ends in /v1")
        elif code in (400, 422):
            fix = ("the server rejected the request: a sampling option it does not support, or a prompt plus "
                   "max_new_tokens beyond its max_model_len")
        else:
            fix = "check the server's log"
        body = _one_line(exc.response.text) or "(empty body)"
        return f"server {self.base} answered {code} to {path}: {body}; {fix}"

    def _call(self, path: str, send: Callable[[], Any], batch: _Batch) -> dict:
        """The JSON reply of `send()`, retried on 408/409/429/5xx, timeouts and broken connections
        (refused, reset, or closed before the whole reply came); the retries end early once another
        request of the batch has failed for good."""
        what = ""
        retry_after: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt and batch.stop.wait(self._backoff(attempt, retry_after)):
                raise batch.fail("")  # another request failed for good: that is the error to report
            retry_after = None
            try:
                raw = send()
            except openai.APITimeoutError:
                what = (f"server {self.base} did not answer {path} within timeout = {self.timeout:g} s; "
                        "raise `timeout` or check the server")
                continue
            except openai.APIConnectionError as exc:
                cause = _one_line(str(exc.__cause__ or exc), 200)
                what = f"cannot reach {self.base}{path} ({cause}); is the server running?"
                continue
            except openai.APIStatusError as exc:
                if not retryable(exc.status_code):
                    raise batch.fail(self._status_problem(path, exc)) from None
                retry_after = _retry_after(exc.response.headers)
                body = _one_line(exc.response.text, 200) or "(empty body)"
                what = (f"server {self.base} answered {exc.status_code} to {path}: {body}; the server is "
                        "overloaded or failing: check its log, lower `concurrency` or raise `max_retries`")
                continue
            try:
                return json.loads(raw.text)
            except ValueError:
                raise batch.fail(f"server {self.base} answered {path} with something that is not JSON: "
                                 f"{_one_line(raw.text, 200)!r}; is {self.base} an OpenAI-compatible /v1 URL?") from None
        tries = self.max_retries + 1
        raise batch.fail(f"{what} (gave up after {tries} {'try' if tries == 1 else 'tries'})")

    def _choices(self, path: str, data: Any, n: int, chat: bool, batch: _Batch) -> list[tuple[str, str | None]]:
        """(text, finish_reason) of the `n` choices of a reply, in their index order."""
        choices = data.get("choices") if isinstance(data, dict) else None
        try:
            if not isinstance(choices, list) or len(choices) != n:
                raise TypeError
            choices = sorted(choices, key=lambda c: c.get("index", 0))
            return [((c["message"]["content"] if chat else c["text"]) or "", c.get("finish_reason"))
                    for c in choices]
        except (TypeError, KeyError, AttributeError):
            got = f"{len(choices)} choices" if isinstance(choices, list) else "no choices"
            raise batch.fail(f"server {self.base} answered {path} with {got} where {n} were asked for, or "
                             "choices without text; is it an OpenAI-compatible server?") from None

    def _sampling(self, r: GenerationRequest) -> dict[str, Any]:
        p = r.params
        out: dict[str, Any] = {"model": self.model, "n": r.n, "seed": r.seed, "temperature": p.temperature,
                               "top_p": p.top_p, "max_tokens": p.max_new_tokens,
                               "extra_body": {"repetition_penalty": p.repetition_penalty}}
        if r.stop:
            out["stop"] = list(r.stop)
        return out

    def _one(self, r: GenerationRequest, batch: _Batch) -> list[Completion]:
        kw = self._sampling(r)
        if r.messages is None:
            path = "/completions"
            data = self._call(path, lambda: self.client.completions.with_raw_response.create(prompt=r.prompt, **kw),
                              batch)
        else:
            path = "/chat/completions"
            messages = [{"role": m.role, "content": m.content} for m in r.messages]
            data = self._call(path, lambda: self.client.chat.completions.with_raw_response.create(
                messages=messages, **kw), batch)
        choices = self._choices(path, data, r.n, r.messages is not None, batch)
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        per = int(usage.get("completion_tokens") or 0) // max(1, len(choices))  # the API reports totals only
        return [Completion(text, prompt_tokens if k == 0 else 0, per, truncated=finish == "length")
                for k, (text, finish) in enumerate(choices)]

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        """The completions of each request, in request order: each one is its own call, so what it gets
        depends only on its prompt, seed and parameters, never on scheduling or retries."""
        if not requests:
            return []
        batch = _Batch()
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests)))
        try:
            return list(pool.map(lambda r: self._one(r, batch), requests))
        except BenchError as exc:
            raise (batch.error or exc) from None  # the first failure, not a request abandoned after it
        finally:
            batch.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
