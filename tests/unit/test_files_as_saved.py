"""Files as people save them: a UTF-8 byte-order mark (several Windows editors write one) and CRLF
line endings read like plain UTF-8 with LF, in suites and in gold files; a path that names a file
where a directory is wanted says so."""

from __future__ import annotations

import json

import pytest

from harness.config.suite import load_suite
from harness.errors import BenchError
from harness.kits.tasks.files import read_jsonl, read_rows

SUITE = """[suite]
name = "saved"

[grid]
tasks = ["massive10"]
languages = ["sw"]
strategies = ["zero-shot"]
models = ["gemma-3-270m"]
classifiers = ["tfidf-logreg"]

[generation]
per_class = 3
"""
LABELS = ["a", "b"]


def _as_saved(text: str, bom: bool, crlf: bool) -> bytes:
    if crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_a_suite_with_a_bom_or_crlf_loads_the_same(tmp_path, bom, crlf):
    plain = tmp_path / "plain.toml"
    plain.write_text(SUITE, encoding="utf-8")
    saved = tmp_path / "saved.toml"
    saved.write_bytes(_as_saved(SUITE, bom, crlf))
    a, b = load_suite(plain), load_suite(saved)
    assert (b.name, b.tasks, b.strategies, b.per_class) == (a.name, a.tasks, a.strategies, a.per_class)


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_and_tsv_gold_files_with_a_bom_or_crlf_read_the_same(tmp_path, bom, crlf, delimiter):
    text = delimiter.join(["text", "label"]) + "\n" + "".join(
        delimiter.join([f"sentensi {i}", LABELS[i % 2]]) + "\n" for i in range(4))
    path = tmp_path / "train.csv"
    path.write_bytes(_as_saved(text, bom, crlf))
    rows = read_rows(path, "text", "label", LABELS, delimiter=delimiter)
    assert [(e.text, e.label) for e in rows] == [(f"sentensi {i}", LABELS[i % 2]) for i in range(4)]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_jsonl_gold_files_with_a_bom_or_crlf_read_the_same(tmp_path, bom, crlf):
    text = "".join(json.dumps({"text": f"sentensi {i}", "label": LABELS[i % 2]}) + "\n" for i in range(4))
    path = tmp_path / "train.jsonl"
    path.write_bytes(_as_saved(text, bom, crlf))
    rows = read_jsonl(path, "text", "label", LABELS)
    assert [(e.text, e.label) for e in rows] == [(f"sentensi {i}", LABELS[i % 2]) for i in range(4)]


def test_a_data_directory_that_is_a_file_is_named_as_a_file(tmp_path, monkeypatch):
    from harness.config import datadir
    from harness.kits.tasks.files import gold_root

    not_a_dir = tmp_path / "data.txt"
    not_a_dir.write_text("x", encoding="utf-8")
    monkeypatch.setenv(datadir.ENV, str(not_a_dir))
    with pytest.raises(BenchError, match=r"data\.txt is a file, not a directory .* name the folder"):
        gold_root()
    monkeypatch.delenv(datadir.ENV)
    with datadir.reading(str(not_a_dir)), pytest.raises(BenchError, match=r"data\.txt is a file, not a directory"):
        gold_root()


@pytest.mark.parametrize("kind", ["loop", "dangling", "file"])
def test_an_out_path_that_cannot_be_a_run_directory_is_one_line(tmp_path, kind):
    from harness.store.rundir import RunDir

    out = tmp_path / "out"
    if kind == "loop":
        (tmp_path / "other").symlink_to(out)
        out.symlink_to(tmp_path / "other")
    elif kind == "dangling":
        out.symlink_to(tmp_path / "nowhere")
    else:
        out.write_text("x", encoding="utf-8")
    expected = {"loop": "symbolic-link loop", "dangling": "which does not exist", "file": "is a file"}[kind]
    with pytest.raises(BenchError, match=expected) as err:
        RunDir(out).open({"per_class": 1}, "h", {})
    assert "\n" not in str(err.value) and str(err.value).startswith("--out ")
