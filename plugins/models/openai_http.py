"""An OpenAI-compatible HTTP engine (`openai:<model>@<base url>`) for a running vLLM server or any
server speaking the same API.

Plain prompts of one batch go out as ONE `/v1/completions` request (the API takes a list of
prompts); chat requests, which the API does not batch, go out concurrently. Seeds, `n` and every
sampling parameter are sent; `repetition_penalty` is the vLLM extension of the API."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from harness.errors import BenchError
from harness.types import Completion, Engine, GenerationRequest
from plugins.models.identity import engine_identity, label

#: what a `/v1/models` entry says about the weights behind a model id (vLLM: `root` is the path or
#: hub id it loaded); `created` is left out, vLLM stamps it with the time of each request
SERVED_FIELDS = ("id", "owned_by", "root", "parent", "max_model_len")


def parse_target(arg: str) -> tuple[str, str]:
    model, sep, base = arg.rpartition("@")
    if not sep or not model or not base.startswith(("http://", "https://")):
        raise BenchError(f"openai model {arg!r} must look like openai:<model>@http://host:port/v1")
    return model, base.rstrip("/")


def openai_identity(model: str, base: str, options: Mapping[str, Any], served: Mapping[str, Any] | None) -> dict:
    """An OpenAI-compatible server's identity (plugins/models/identity.py): the model id, the host
    serving it, a revision the user states and what the server's `/v1/models` entry reports. The
    server decides dtype, device and quantization, so they are recorded as unknown (None)."""
    weights: dict[str, Any] = {"source": "server", "model": model, "host": urlsplit(base).netloc}
    if options.get("revision"):
        weights["revision"] = str(options["revision"])
    if served:
        weights["served"] = {k: served[k] for k in SERVED_FIELDS if served.get(k) is not None}
    return engine_identity("openai-http", None, options.get("dtype"), None, options.get("quantization"), weights)


class OpenAIEngine(Engine):
    def __init__(self, arg: str, options: Mapping[str, Any] | None = None):
        options = dict(options or {})
        self.model, self.base = parse_target(arg)
        self.is_chat = bool(options.get("chat", False))
        self.batch_size = int(options.get("batch_size", 64))
        self.timeout = float(options.get("timeout", 600))
        self.concurrency = int(options.get("concurrency", 16))
        self.api_key = os.environ.get(str(options.get("api_key_env", "OPENAI_API_KEY")), "")
        # the server decides the weights: its model id, host, a revision the user states and what
        # the server reports about the model identify them
        self.served = self._served_model()
        self.identity = openai_identity(self.model, self.base, options, self.served)
        self.fingerprint = label(self.identity)

    def _served_model(self) -> dict | None:
        """The server's `/v1/models` entry for this model, or None when the server does not answer."""
        req = urllib.request.Request(self.base + "/models", headers=self._headers())
        try:
            with urllib.request.urlopen(req, timeout=min(self.timeout, 10)) as resp:
                data = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError, OSError):
            return None
        for entry in data.get("data", []) if isinstance(data, dict) else []:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                return entry
        return None

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def info(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "identity": self.identity, "served": self.served,
                "batch_size": self.batch_size, "chat": self.is_chat}

    def _post(self, path: str, payload: dict) -> dict:
        req = urllib.request.Request(self.base + path, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **self._headers()})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")[:300]
            raise BenchError(f"server {self.base} answered {exc.code} to {path}: {body}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise BenchError(f"cannot reach {self.base}{path}: {exc}; is the server running?") from None

    def _params(self, r: GenerationRequest) -> dict:
        p = r.params
        out = {"model": self.model, "n": r.n, "seed": r.seed, "temperature": p.temperature, "top_p": p.top_p,
               "max_tokens": p.max_new_tokens, "repetition_penalty": p.repetition_penalty}
        if r.stop:
            out["stop"] = list(r.stop)
        return out

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        out: list[list[Completion]] = [[] for _ in requests]
        plain = [i for i, r in enumerate(requests) if r.messages is None]
        chat = [i for i, r in enumerate(requests) if r.messages is not None]
        # one completions call per group of identical parameters, with all its prompts
        groups: dict[str, list[int]] = {}
        for i in plain:
            key = json.dumps({k: v for k, v in self._params(requests[i]).items() if k != "seed"}, sort_keys=True)
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            payload = self._params(requests[idx[0]])
            payload["prompt"] = [requests[i].prompt for i in idx]
            payload["seed"] = requests[idx[0]].seed
            data = self._post("/completions", payload)
            choices = sorted(data["choices"], key=lambda c: c["index"])
            usage = data.get("usage") or {}
            n = requests[idx[0]].n
            per = int(usage.get("completion_tokens", 0)) // max(1, len(choices))  # the API reports totals only
            for j, i in enumerate(idx):
                mine = choices[j * n : (j + 1) * n]
                out[i] = [Completion(c["text"], int(usage.get("prompt_tokens", 0)) // len(idx) if k == 0 else 0, per,
                                     truncated=c.get("finish_reason") == "length")
                          for k, c in enumerate(mine)]

        def one_chat(i: int) -> tuple[int, list[Completion]]:
            r = requests[i]
            payload = self._params(r)
            payload["messages"] = [{"role": m.role, "content": m.content} for m in r.messages]
            data = self._post("/chat/completions", payload)
            usage = data.get("usage") or {}
            choices = sorted(data["choices"], key=lambda c: c["index"])
            per = int(usage.get("completion_tokens", 0)) // max(1, len(choices))
            return i, [Completion(c["message"]["content"] or "", int(usage.get("prompt_tokens", 0)) if k == 0 else 0, per,
                                  truncated=c.get("finish_reason") == "length")
                       for k, c in enumerate(choices)]

        if chat:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                for i, comps in pool.map(one_chat, chat):
                    out[i] = comps
        return out
