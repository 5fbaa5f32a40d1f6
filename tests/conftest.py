"""Shared fixtures: the real gold data, a tiny random-weight model built from a config (no assets),
and an isolated cache directory per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_data() -> Path:
    env = os.environ.get("BENCH_DATA_DIR")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    if not (path / "kinit").is_dir():
        raise RuntimeError(f"the gold data is missing at {path}: put shared/ beside the checkout or set BENCH_DATA_DIR")
    return path


#: a miniature of the gold data (scripts/unit_gold.py): the unit tests read it, never ../shared
UNIT_GOLD = ROOT / "tests" / "unit" / "data" / "gold"


def _is_unit(request) -> bool:
    return (ROOT / "tests" / "unit") in Path(str(request.node.path)).parents


@pytest.fixture
def data_dir(request) -> Path:
    """The gold data a test reads: the miniature for unit tests, the real data for the others."""
    return UNIT_GOLD if _is_unit(request) else shared_data()


_MODELS: list[Path] = []
#: BENCH_CACHE_DIR as the test run found it: its converted models are reused, and kept
_OUTER_CACHE = os.environ.get("BENCH_CACHE_DIR")


def fresh_cache(path: Path) -> Path:
    """A new, empty cache directory whose converted offline models (`models/`, built from the
    packages once and only ever read) are shared by every test of the session, and with the cache
    BENCH_CACHE_DIR named when the tests started (CI's, whose suite run then finds them converted):
    a conversion takes tens of seconds, and what a test checks about the cache is its generations
    and embeddings."""
    if not _MODELS:  # the cache the tests were started with, where one was named (CI's), else a temporary one
        import tempfile

        outer = _OUTER_CACHE and Path(_OUTER_CACHE) / "models"
        _MODELS.append(outer if outer else Path(tempfile.mkdtemp(prefix="bench-test-models-")))
        _MODELS[0].mkdir(parents=True, exist_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "models").exists():
        (path / "models").symlink_to(_MODELS[0], target_is_directory=True)
    return path


def pytest_sessionfinish(session, exitstatus):
    import shutil

    for models in _MODELS:
        if not _OUTER_CACHE:
            shutil.rmtree(models, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is slow (the real models and data, whole runs): `pytest` alone runs
    tests/unit and tests/plugins, CI adds `-m "slow or not slow"`."""
    e2e = ROOT / "tests" / "e2e"
    for item in items:
        if e2e in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_env(request, tmp_path, monkeypatch):
    """Each test its own cache (sharing only the converted models); the gold data: the miniature for
    unit tests, the real data where it is for the others (a test that needs it and finds none fails
    with where to put it)."""
    monkeypatch.setenv("BENCH_CACHE_DIR", str(fresh_cache(tmp_path / "cache")))
    if _is_unit(request):
        monkeypatch.setenv("BENCH_DATA_DIR", str(UNIT_GOLD))
    else:
        try:
            monkeypatch.setenv("BENCH_DATA_DIR", str(shared_data()))
        except RuntimeError:
            pass
    monkeypatch.delenv("BENCH_STRICT_PLUGINS", raising=False)


def build_tiny_model(path: Path, head_dim: int | None = None) -> Path:
    """A 2-layer Llama with random weights and a small BPE tokenizer trained here on real gold text
    (the unit tests' miniature of it, so building one needs no ../shared).
    Its heads are 8 wide unless `head_dim` says otherwise: vLLM's CPU attention needs at least 32."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    if (path / "config.json").is_file():
        return path
    texts = []
    for name in ("sw-train_human_parsed.csv", "de-train_human_parsed.csv"):
        texts += (UNIT_GOLD / "kinit" / "intent" / name).read_text(encoding="utf-8").splitlines()[:400]
    texts += [f"{i}. " for i in range(1, 30)] * 20
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=fast.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                      head_dim=head_dim or 32 // 4,
                      bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    model = LlamaForCausalLM(cfg)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


def build_tiny_bert(path: Path, kind: str = "bert") -> Path:
    """A 2-layer BERT (or, with kind="xlm-roberta", an XLM-R: positions from the padding id, its own
    head) with random weights and a WordPiece vocabulary trained on the gold miniature's Swahili
    sentiment texts: the fine-tune classifier's tests need no asset and no ../shared."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    if (path / "config.json").is_file():
        return path
    texts = (UNIT_GOLD / "kinit" / "sentiment" / "sw-train_human_parsed.csv").read_text(encoding="utf-8").splitlines()
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts[:600], trainers.WordPieceTrainer(vocab_size=500, special_tokens=[
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[
        ("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    shape = dict(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=64)
    if kind == "xlm-roberta":
        model = XLMRobertaModel(XLMRobertaConfig(**shape, max_position_embeddings=162, pad_token_id=fast.pad_token_id))
    else:
        model = BertModel(BertConfig(**shape, max_position_embeddings=160))
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


def finetune_toy_data():
    """Twenty Swahili sentiment phrases and four to predict: enough for the fine-tune classifier's
    held-out split, early stopping and seeds to be exercised on a tiny model in seconds."""
    from harness.contracts import Example

    pos = ["nzuri sana", "ninapenda hii", "bora kabisa", "safi sana", "furaha kubwa", "napenda sana", "vizuri mno",
           "nzuri mno", "bora sana", "safi kabisa"]
    neg = ["mbaya sana", "sipendi hii", "mbovu kabisa", "chafu sana", "huzuni kubwa", "sipendi kabisa", "vibaya mno",
           "mbaya mno", "mbovu sana", "chafu kabisa"]
    train = [Example(t, "positive") for t in pos] + [Example(t, "negative") for t in neg]
    return train, ["nzuri kabisa", "mbaya kabisa", "safi mno", "chafu mno"]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture(scope="session")
def tiny_xlmr(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-xlmr", kind="xlm-roberta")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")


#: a chat template in Gemma's manner: it renders the BOS itself, then one turn per message
TINY_CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
                      "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def build_tiny_chat_model(src: Path, path: Path, max_position_embeddings: int | None = None) -> Path:
    """The tiny model as a chat model whose tokenizer also adds a BOS to plain text, as Gemma's does:
    its template renders `<s>`, so text from the template tokenized with special tokens has two."""
    import json
    import shutil

    from tokenizers.processors import TemplateProcessing
    from transformers import AutoTokenizer

    if (path / "config.json").is_file():
        return path
    path.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.suffix == ".safetensors" or f.name in ("config.json", "generation_config.json"):
            shutil.copy(f, path / f.name)
    tok = AutoTokenizer.from_pretrained(src)
    bos = tok.bos_token
    tok.backend_tokenizer.post_processor = TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A $B",
                                                              special_tokens=[(bos, tok.bos_token_id)])
    tok.chat_template = TINY_CHAT_TEMPLATE
    tok.save_pretrained(path)
    if max_position_embeddings:
        cfg = json.loads((path / "config.json").read_text())
        cfg["max_position_embeddings"] = max_position_embeddings
        (path / "config.json").write_text(json.dumps(cfg))
    return path


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory, tiny_model) -> Path:
    return build_tiny_chat_model(tiny_model, tmp_path_factory.mktemp("models") / "tiny-chat")


def bench(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real `bench` command line in this process, as `bench ARGS` would in a shell: from the
    checkout, with `env` added to the environment, its exit status and both streams captured.
    In-process saves the interpreter and torch start-up of a subprocess (seconds per call); where
    the process itself is the point (a signal, a closed pipe, import-time behaviour), use
    `bench_process`. `timeout` is the subprocess's, kept so that callers can switch."""
    import contextlib
    import io
    import warnings

    from harness.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd, saved_warning = dict(os.environ), os.getcwd(), warnings.showwarning
    os.environ.update(env or {})
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("default")
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, or a mistake in the flags
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
                if isinstance(exc.code, str):
                    err.write(exc.code)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        warnings.showwarning = saved_warning
    return subprocess.CompletedProcess(["bench", *args], code, out.getvalue(), err.getvalue())


def bench_process(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `bench` in a subprocess, for tests where the process is the point."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=str(ROOT))


def write_suite(path: Path, model: str, *, tasks=("sentiment",), languages=("sw",), strategies=("zero-shot",),
                classifiers=("tfidf-logreg",), per_class=3, seeds=2, extra: str = "") -> Path:
    def arr(xs):
        return "[" + ", ".join(f'"{x}"' for x in xs) + "]"

    path.write_text(f"""
[suite]
name = "test"

[grid]
tasks = {arr(tasks)}
languages = {arr(languages)}
strategies = {arr(strategies)}
models = {arr([model])}
classifiers = {arr(classifiers)}

[generation]
per_class = {per_class}
samples_per_request = 2
calls_per_class = 3
demos_per_class = 2

[sampling]
temperature = 0.9
max_new_tokens = 24

[evaluation]
seeds = {seeds}
{extra}
""", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_model) -> Path:
    """One finished run with the tiny model (two tasks, two languages, two strategies), shared by
    the tests that only read a leaderboard."""
    root = tmp_path_factory.mktemp("tiny-run")
    suite = write_suite(root / "s.toml", f"hf:{tiny_model}", tasks=["sentiment", "massive10"], languages=["sw", "sl"],
                        strategies=["zero-shot", "target-demos"], per_class=3)
    out = bench("run", str(suite), "--out", str(root / "run"), "--no-progress",
                env={"BENCH_CACHE_DIR": str(fresh_cache(root / "cache")), "BENCH_DATA_DIR": str(shared_data())})
    assert out.returncode == 0, out.stderr
    return root / "run"
