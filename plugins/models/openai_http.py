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

from harness.errors import BenchError
from harness.types import Completion, Engine, GenerationRequest


def parse_target(arg: str) -> tuple[str, str]:
    model, sep, base = arg.rpartition("@")
    if not sep or not model or not base.startswith(("http://", "https://")):
        raise BenchError(f"openai model {arg!r} must look like openai:<model>@http://host:port/v1")
    return model, base.rstrip("/")


class OpenAIEngine(Engine):
    def __init__(self, arg: str, options: Mapping[str, Any] | None = None):
        options = dict(options or {})
        self.model, self.base = parse_target(arg)
        self.is_chat = bool(options.get("chat", False))
        self.batch_size = int(options.get("batch_size", 64))
        self.timeout = float(options.get("timeout", 600))
        self.concurrency = int(options.get("concurrency", 16))
        self.api_key = os.environ.get(str(options.get("api_key_env", "OPENAI_API_KEY")), "")
        # the server decides the weights; its model id (and a revision the user states) identify them
        self.fingerprint = f"openai:{self.model}@{options.get('revision', 'served')}"

    def _post(self, path: str, payload: dict) -> dict:
        req = urllib.request.Request(self.base + path, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})})
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
