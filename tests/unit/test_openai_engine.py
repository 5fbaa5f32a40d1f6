"""The OpenAI-compatible engine against real HTTP servers on 127.0.0.1: one serving the tiny model,
and one whose answers are a hash of (prompt, seed, n) and which fails on purpose (503, 429, dropped
connections, hangs, malformed replies) to show that retries change no result."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.api import TransformersEngine
from harness.contracts import GenerationRequest, Message, SamplingParams
from harness.errors import BenchError
from plugins.models import openai_http
from plugins.models.openai_http import OpenAIEngine, parse_target


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Retries at once: the backoff's length is not under test, what the retries return is."""
    monkeypatch.setattr(openai_http, "RETRY_DELAY", 0.001)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections `concurrency` requests open at once


@pytest.fixture(scope="module")
def server(tiny_model):
    engine = TransformersEngine(str(tiny_model), {"batch_size": 16})
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

    httpd = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", posts
    httpd.shutdown()


def test_each_plain_prompt_is_one_request_with_its_own_seed(server):
    base, posts = server
    posts.clear()
    eng = OpenAIEngine(f"tiny@{base}")
    params = SamplingParams(temperature=0.8, max_new_tokens=12)
    reqs = [GenerationRequest(params, seed=10 + i, n=3, prompt=f"{i}. habari") for i in range(3)]
    out = eng.generate(reqs)
    assert sorted((body["prompt"], body["seed"]) for _, body in posts) == [(f"{i}. habari", 10 + i) for i in range(3)]
    assert {path for path, _ in posts} == {"/v1/completions"}
    assert all(body["n"] == 3 and body["repetition_penalty"] == params.repetition_penalty for _, body in posts)
    assert [len(c) for c in out] == [3] * 3 and all(isinstance(c.text, str) for r in out for c in r)


def test_chat_requests_and_determinism(server):
    base, posts = server
    eng = OpenAIEngine(f"tiny@{base}", {"chat": True})
    req = GenerationRequest(SamplingParams(max_new_tokens=8), seed=3, n=2, messages=(Message("user", "andika"),))
    first = eng.generate([req, req])
    assert first == eng.generate([req, req]) and len(first[0]) == 2


def test_unreachable_server_and_bad_names_are_one_line():
    with pytest.raises(BenchError, match=r"cannot reach http://127.0.0.1:9/v1/completions .*gave up after 3 tries"):
        OpenAIEngine("m@http://127.0.0.1:9/v1", {"timeout": 2, "max_retries": 2}).generate(
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


# -- a server that fails on purpose ---------------------------------------------------------------

def _text(prompt: str, seed: int, i: int) -> str:
    return hashlib.sha256(f"{prompt}|{seed}|{i}".encode()).hexdigest()[:16]


#: the faults a request meets before it is answered, by the hash of its prompt and seed: about a third
#: of all answers are 503, then 429s and connections closed before or in the middle of the reply
FAULT_PLANS = [(), ("503",), ("503", "429"), ("drop", "503"), ("503", "partial", "503"), ("429", "drop"),
               ("partial",), ("503", "503", "drop", "429")]


class FaultyServer:
    """An OpenAI-compatible server whose choices are a hash of (prompt, seed, index). With `faults` on,
    each request first meets the faults of its plan; prompts starting with `!` ask for a failure that
    retrying cannot fix (`!400`, `!401`, `!notjson`, `!few`) or for a hang (`!hang`)."""

    def __init__(self, faults: bool):
        self.faults = faults
        self.seeds: dict[str, list[int]] = defaultdict(list)  # every seed each prompt arrived with
        self.outcomes: Counter = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "test"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.answer(self, body)

            def _send(self, code, payload, raw=None, headers=()):
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer(self, h, body):
        chat = h.path == "/v1/chat/completions"
        prompt = "\n".join(m["content"] for m in body["messages"]) if chat else body["prompt"]
        seed, n = body["seed"], body["n"]
        with self.lock:
            self.seeds[prompt].append(seed)
            tries = len(self.seeds[prompt])
        plan = FAULT_PLANS[int(hashlib.sha256(f"{prompt}|{seed}".encode()).hexdigest(), 16) % len(FAULT_PLANS)]
        fault = plan[tries - 1] if self.faults and tries <= len(plan) else None
        fault = {"!400": "400", "!401": "401", "!notjson": "notjson", "!few": "few", "!hang": "hang"}.get(
            prompt, fault)
        with self.lock:
            self.outcomes[fault or "ok"] += 1
        if fault == "hang":
            time.sleep(1.0)
            return
        if fault == "drop":  # the connection closes before any reply
            h.close_connection = True
            return
        texts = [_text(prompt, seed, i) for i in range(n - (fault == "few"))]
        choices = [{"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"} if chat
                   else {"index": i, "text": t, "finish_reason": "length" if i % 2 else "stop"}
                   for i, t in enumerate(texts)]
        payload = {"choices": choices[::-1],  # out of order, as the API allows
                   "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 5 * n}}
        if fault == "partial":  # the reply is cut off in the middle
            data = json.dumps(payload).encode()
            h.send_response(200)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
        elif fault in ("503", "400", "401"):
            h._send(int(fault), {"error": {"message": f"fault {fault}", "code": int(fault)}})
        elif fault == "429":
            h._send(429, {"error": {"message": "slow down"}}, headers=[("Retry-After", "0")])
        elif fault == "notjson":
            h._send(200, None, raw=b"<html>\n<body>proxy error</body>\n</html>")
        else:
            h._send(200, payload)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def faulty():
    servers: list[FaultyServer] = []

    def start(faults: bool) -> FaultyServer:
        servers.append(FaultyServer(faults))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _mixed_requests() -> list[GenerationRequest]:
    params = SamplingParams(temperature=0.9, max_new_tokens=16)
    plain = [GenerationRequest(params, seed=100 + i, n=1 + i % 3, prompt=f"swali {i}") for i in range(24)]
    chat = [GenerationRequest(params, seed=7 * i, n=2, messages=(Message("user", f"andika {i}"),)) for i in range(6)]
    return plain[:12] + chat + plain[12:]


def test_faults_and_retries_change_no_result_and_every_prompt_keeps_its_seed(faulty):
    clean, noisy = faulty(False), faulty(True)
    reqs = _mixed_requests()
    want = OpenAIEngine(f"m@{clean.base}", {"concurrency": 4}).generate(reqs)
    got = OpenAIEngine(f"m@{noisy.base}", {"concurrency": 8}).generate(reqs)
    assert got == want
    assert noisy.outcomes["503"] >= 0.25 * noisy.outcomes.total()
    assert min(noisy.outcomes[k] for k in ("429", "drop", "partial")) > 0
    for r in reqs:
        prompt = r.prompt if r.messages is None else r.messages[0].content
        assert set(noisy.seeds[prompt]) == {r.seed} and clean.seeds[prompt] == [r.seed]
    for r, comps in zip(reqs, got):
        prompt = r.prompt if r.messages is None else r.messages[0].content
        assert [c.text for c in comps] == [_text(prompt, r.seed, i) for i in range(r.n)]
        # the prompt is counted once per request, on its first completion
        assert [c.prompt_tokens for c in comps] == [len(prompt.split())] + [0] * (r.n - 1)
        assert all(c.completion_tokens == 5 for c in comps)
        if r.messages is None:
            assert [c.truncated for c in comps] == [bool(i % 2) for i in range(r.n)]


@pytest.mark.parametrize("prompt, says", [
    ("!400", r"answered 400 to /completions: .*fault 400.*; the server rejected the request"),
    ("!401", r"answered 401 to /completions: .*; set the server's API key in \$OPENAI_API_KEY"),
    ("!notjson", r"answered /completions with something that is not JSON: '<html> <body>proxy error"),
    ("!few", r"answered /completions with 1 choices where 2 were asked for"),
])
def test_a_failure_retrying_cannot_fix_is_one_line_at_once(faulty, prompt, says):
    srv = faulty(True)
    reqs = [GenerationRequest(SamplingParams(), seed=i, n=2, prompt=f"swali {i}") for i in range(6)]
    reqs.insert(3, GenerationRequest(SamplingParams(), seed=3, n=2, prompt=prompt))
    start = time.monotonic()
    with pytest.raises(BenchError, match=f"^server {srv.base} {says}") as err:
        OpenAIEngine(f"m@{srv.base}").generate(reqs)
    assert "\n" not in str(err.value) and time.monotonic() - start < 5
    assert srv.seeds[prompt] == [3]  # not retried


def test_a_server_that_hangs_is_retried_then_fails_quickly(faulty):
    srv = faulty(False)
    eng = OpenAIEngine(f"m@{srv.base}", {"timeout": 0.2, "max_retries": 1})
    start = time.monotonic()
    with pytest.raises(BenchError, match=rf"^server {srv.base} did not answer /completions within timeout = 0.2 s; "
                                         r"raise `timeout` or check the server \(gave up after 2 tries\)$"):
        eng.generate([GenerationRequest(SamplingParams(), seed=1, prompt="!hang")])
    assert time.monotonic() - start < 2 and srv.seeds["!hang"] == [1, 1]
