"""The OpenAI-compatible engine against a real HTTP server on 127.0.0.1 serving the tiny model."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.errors import BenchError
from harness.types import GenerationRequest, Message, SamplingParams
from plugins.models.hf import HFEngine
from plugins.models.openai_http import OpenAIEngine, parse_target


@pytest.fixture(scope="module")
def server(tiny_model):
    engine = HFEngine(str(tiny_model), {"batch_size": 16})
    posts: list[tuple[str, dict]] = []
    lock = threading.Lock()  # one generation at a time: torch's seed is process-wide

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != "/v1/models":
                self.send_response(404)
                self.end_headers()
                return
            # as vLLM answers: `created` is the time of the request
            data = json.dumps({"object": "list", "data": [
                {"id": "tiny", "object": "model", "created": int(time.time()), "owned_by": "vllm",
                 "root": str(tiny_model), "parent": None, "max_model_len": 2048}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            with lock:
                self._answer()

        def _answer(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            posts.append((self.path, body))
            params = SamplingParams(body["temperature"], body["top_p"], body.get("repetition_penalty", 1.0),
                                    body["max_tokens"])
            if self.path == "/v1/completions":
                prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                reqs = [GenerationRequest(params, body["seed"] + i, n=body["n"], prompt=p) for i, p in enumerate(prompts)]
                comps = [c for r in engine.generate(reqs) for c in r]
                choices = [{"index": i, "text": c.text, "finish_reason": "length" if c.truncated else "stop"}
                           for i, c in enumerate(comps)]
            elif self.path == "/v1/chat/completions":
                text = "\n".join(m["content"] for m in body["messages"])
                comps = engine.generate([GenerationRequest(params, body["seed"], n=body["n"], prompt=text)])[0]
                choices = [{"index": i, "message": {"role": "assistant", "content": c.text}, "finish_reason": "stop"}
                           for i, c in enumerate(comps)]
            else:
                self.send_response(404)
                self.end_headers()
                return
            usage = {"prompt_tokens": sum(c.prompt_tokens for c in comps),
                     "completion_tokens": sum(c.completion_tokens for c in comps)}
            data = json.dumps({"choices": choices, "usage": usage}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", posts
    httpd.shutdown()


def test_plain_prompts_of_a_batch_go_in_one_request(server):
    base, posts = server
    posts.clear()
    eng = OpenAIEngine(f"tiny@{base}")
    params = SamplingParams(temperature=0.8, max_new_tokens=12)
    reqs = [GenerationRequest(params, seed=i, n=3, prompt=f"{i}. habari") for i in range(5)]
    out = eng.generate(reqs)
    assert len(posts) == 1 and posts[0][0] == "/v1/completions" and len(posts[0][1]["prompt"]) == 5
    assert posts[0][1]["n"] == 3 and posts[0][1]["repetition_penalty"] == params.repetition_penalty
    assert [len(c) for c in out] == [3] * 5 and all(isinstance(c.text, str) for r in out for c in r)


def test_chat_requests_and_determinism(server):
    base, posts = server
    eng = OpenAIEngine(f"tiny@{base}", {"chat": True})
    req = GenerationRequest(SamplingParams(max_new_tokens=8), seed=3, n=2, messages=(Message("user", "andika"),))
    first = eng.generate([req, req])
    assert first == eng.generate([req, req]) and len(first[0]) == 2


def test_unreachable_server_and_bad_names_are_one_line():
    with pytest.raises(BenchError, match="cannot reach http://127.0.0.1:9/v1/completions"):
        OpenAIEngine("m@http://127.0.0.1:9/v1", {"timeout": 2}).generate(
            [GenerationRequest(SamplingParams(), 0, prompt="x")])
    with pytest.raises(BenchError, match="must look like openai:<model>@http"):
        parse_target("just-a-name")


def test_identity_records_what_the_server_reports_and_stays_put(server):
    base, _ = server
    eng = OpenAIEngine(f"tiny@{base}")
    weights = eng.identity["weights"]
    assert eng.identity["backend"] == "openai-http" and weights["model"] == "tiny"
    assert weights["host"] == base.split("/")[2] and weights["served"]["owned_by"] == "vllm"
    assert weights["served"]["root"].endswith("tiny-llama") and "created" not in weights["served"]
    time.sleep(1.1)  # another `created`, the same identity: a rerun keeps hitting the cache
    assert OpenAIEngine(f"tiny@{base}").identity == eng.identity
    other = OpenAIEngine(f"not-served@{base}")  # a model the server does not list: no report, still its host
    assert "served" not in other.identity["weights"] and other.identity["weights"]["host"] == weights["host"]
    assert "served" not in eng.fingerprint
