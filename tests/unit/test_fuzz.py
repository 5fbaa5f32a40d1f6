"""Property-based checks of the exit-code contract (README, "Errors and exit codes"): whatever a user
passes (a malformed suite, odd option values, a damaged leaderboard, a broken gold file), `bench`
ends with a clean success or exit 2 and one `bench: error: ...` line, never a traceback, and a run
refused for its input leaves no files behind.

The commands run in this process (`harness.cli.main.main`), each in its own working directory with its
own cache directory, and the environment restored afterwards. The examples are derandomized, so CI
sees the same cases on every run; BENCH_FUZZ_EXAMPLES=500 searches deeper (default 40 per test).
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import os
import re
import tempfile
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gate import make_board

from conftest import write_suite
from harness.api import FileTask
from harness.cli.main import main
from harness.contracts import Language
from harness.hookspecs import hookimpl

FUZZ = settings(max_examples=int(os.environ.get("BENCH_FUZZ_EXAMPLES", "40")), deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_ARGPARSE_ERROR = re.compile(r"^bench( \w+)?: error: ")
_counter = itertools.count()


# -- running the command in this process ---------------------------------------------------------

def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1) for p in root.rglob("*")}


def bench_here(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str, bool]:
    """`bench ARGV` in-process from `cwd`, with `env` over a cache directory of its own: (exit status,
    stdout, stderr, whether argparse exited)."""
    # encoded as a real terminal or pipe is: text that cannot be written as UTF-8 fails here too
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="")
    saved_env, saved_cwd, saved_hook = dict(os.environ), os.getcwd(), warnings.showwarning
    os.environ["BENCH_CACHE_DIR"] = str(cwd / ".cache")
    os.environ.update(env or {})
    from_argparse = False
    try:
        os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: a usage error (2); --help is never generated
                from_argparse = True
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        warnings.showwarning = saved_hook
    out.flush()
    err.flush()
    return code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode(), from_argparse


def assert_clean(argv: list[str], result: tuple[int, str, str, bool], ok: tuple[int, ...] = (0,)) -> int:
    """Exit 2 with one error line (argparse's too), or a clean success."""
    code, _, err, from_argparse = result
    shown = f"bench {argv!r} exited {code}; stderr:\n{err}"
    assert "Traceback" not in err and "internal error" not in err, shown
    lines = err.strip().splitlines()
    if code == 2:
        if from_argparse:
            assert len(lines) == 1 and _ARGPARSE_ERROR.match(lines[0]), shown
        else:
            assert len(lines) == 1 and lines[0].startswith("bench: error: "), shown
    else:
        assert code in ok, shown
        assert not any("error" in line for line in lines), shown
    return code


def fresh_dir(factory) -> Path:
    return factory.mktemp(f"fuzz{next(_counter)}", numbered=False)


# -- suite files ---------------------------------------------------------------------------------

_GOOD_GRID = {"tasks": '["sentiment"]', "languages": '["sw"]', "strategies": '["zero-shot"]',
              "models": '["gemma-3-270m"]', "classifiers": '["tfidf-logreg"]'}
_VALUES = ['"sentiment"', '["sw"]', '["sentiment", "sib200"]', "[]", '[""]', '[","]', '"*"', '["s?"]', '["nope"]',
           '["zero-shot", "target-demos"]', '["hf:"]', '["hf:x"]', '["tfidf-*"]', "0", "-1", "3", "2", "1.5", "-0.5",
           "nan", "inf", "true", "false", '"x"', '""', '"first"', '"random"', "[1, 2]", "[1, 1]", '[1, "a"]',
           "[true]", "{a = 1}", "1979-05-27", "[[1]]", "99999999999", '"../nowhere"', '"caf\\u00e9"']
_SECTIONS = {"suite": ["name", "description", "data_dir"],
             "grid": list(_GOOD_GRID),
             "generation": ["per_class", "seed", "summarizer", "faithful", "samples_per_request", "calls_per_class",
                            "demos_per_class", "summary_examples", "revision_max_new_tokens", "replicates"],
             "sampling": ["temperature", "top_p", "repetition_penalty", "max_new_tokens"],
             "evaluation": ["seeds", "match_gold_size", "gold"],
             'models."gemma-3-270m"': ["batch_size", "max_model_len", "gpus", "cpus", "timeout", "chat", "device"],
             'models."gemma-3-270m".sampling': ["temperature", "top_p", "max_new_tokens"],
             'classifiers."tfidf-logreg"': ["batch_size", "gpus", "my_option"],
             'strategies."zero-shot"': ["demos_per_class", "summarizer", "faithful", "gpus"],
             "gird": ["tasks"], "Grid": ["tasks"], "models": ["gemma-3-270m"], "evaluation.x": ["y"]}
_UNKNOWN_KEYS = ["per-class", "seeds", "Tasks", "x", "languages", "per_class"]


@st.composite
def suite_bytes(draw) -> bytes:
    """A suite built from valid sections, keys and values, mixed up, sometimes damaged as bytes."""
    lines = []
    names = draw(st.lists(st.sampled_from(sorted(_SECTIONS)), min_size=0, max_size=6))
    if draw(st.booleans()):
        names = ["grid", *names]
    for section in names:
        lines.append(f"[{section}]")
        keys = draw(st.lists(st.sampled_from(_SECTIONS[section] + _UNKNOWN_KEYS), max_size=5, unique=True))
        if section == "grid":  # every language of every task would make a slow plan; keep the grid narrow
            keys = list(dict.fromkeys(["languages", *keys]))
        for key in keys:
            if section == "grid" and draw(st.booleans()):
                value = _GOOD_GRID.get(key, '["x"]')
            else:
                value = draw(st.sampled_from(_VALUES))
            if section == "grid" and key == "languages" and value in ('"*"', "[]"):
                value = '["sw"]'
            lines.append(f"{key} = {value}")
    text = "\n".join(lines) + "\n"
    data = text.encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "truncate", "bytes", "latin1"]))
    if damage == "truncate" and data:
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    elif damage == "latin1":
        data = data.replace(b"\n", b"\n# caf\xe9\n", 1)
    return data


@FUZZ
@given(text=suite_bytes())
def test_a_malformed_suite_is_one_line_and_leaves_no_files(tmp_path_factory, text):
    root = fresh_dir(tmp_path_factory)
    (root / "s.toml").write_bytes(text)
    before = _tree(root)
    argv = ["run", "s.toml", "--dry-run"]
    code = assert_clean(argv, bench_here(argv, root))
    assert _tree(root) == before
    if code == 2:  # refused before any model work: the real run must refuse it as well, writing nothing
        real = ["run", "s.toml", "--out", "out", "--no-progress"]
        assert assert_clean(real, bench_here(real, root)) == 2
        assert _tree(root) == before and not (root / "out").exists()


# -- options of bench run ------------------------------------------------------------------------

_NAMES = st.sampled_from(["", ",", " , ", "*", "?", "[", "]", "s*", "zz*", "nope", "sentiment", "sentiment,sib200",
                          "sw", "sw,de", "SW", "zero-shot", "target-demos,zero-shot", "gemma-3-270m", "hf:", "hf:x",
                          "tfidf-logreg", "tfidf-*", "e5-logreg", "a,,b", "\u00e9", "-x", "sentiment,,",
                          "hf:\udcff", "\udcff"])  # \udcff: a non-UTF-8 byte of argv, as Python decodes it
_INTS = st.one_of(st.integers(-3, 5).map(str),
                  st.sampled_from(["", "x", "1.5", "1e3", " 2 ", "\u0663", "-0", "0x10", "99999999999999999999"]))
_SEEDS = st.one_of(st.integers(-2, 6).map(str),
                   st.sampled_from(["", ",", "1,,2", "0,x", "0,1,7", "1,1", "-1,2", " 3 ", "2,", "1.0", "a",
                                    "\u0663", "0, 1"]))
_SHARDS = st.sampled_from(["0/1", "1/2", "2/2", "0/0", "-1/2", " 1 / 3 ", "1/2/3", "a", "", "/", "1", "\u0660/\u0662"])
_OPTIONS = {"--seeds": _SEEDS, "--per-class": _INTS, "--replicates": _INTS,
            "--gold": st.sampled_from(["first", "random", "", "First", "x"]), "--tasks": _NAMES,
            "--languages": _NAMES, "--strategies": _NAMES, "--models": _NAMES, "--classifiers": _NAMES,
            "--shard": _SHARDS}


@st.composite
def run_options(draw) -> list[str]:
    chosen = draw(st.lists(st.sampled_from(sorted(_OPTIONS)), max_size=5, unique=True))
    args = []
    for opt in chosen:
        value = draw(_OPTIONS[opt])
        if opt == "--replicates" and value.strip().lstrip("-").isdigit() and int(value) > 3:
            value = "3"  # a valid count only multiplies the plan; three replicates is enough
        args.append(f"{opt}={value}")
    return args


@pytest.fixture(scope="module")
def good_suite(tmp_path_factory) -> Path:
    return write_suite(tmp_path_factory.mktemp("suite") / "s.toml", "gemma-3-270m")


@FUZZ
@given(args=run_options())
def test_bad_run_options_are_one_line_and_leave_no_files(tmp_path_factory, good_suite, args):
    root = fresh_dir(tmp_path_factory)
    before = _tree(root)
    argv = ["run", str(good_suite), "--dry-run", *args]
    code = assert_clean(argv, bench_here(argv, root))
    assert _tree(root) == before
    if code == 2:
        real = ["run", str(good_suite), "--out", "out", "--no-progress", *args]
        assert assert_clean(real, bench_here(real, root)) == 2
        assert _tree(root) == before and not (root / "out").exists()


# -- leaderboards --------------------------------------------------------------------------------

_BAD_VALUES = [float("nan"), float("inf"), float("-inf"), -1, -0.5, 1.5, 2, 0, 1e308, "x", "", None, True, [], {}, [None],
               "\ud800", "a\nb", "[red]x[/red]"]


_NAMES_IN_BOARDS = ["\ud800", "a\nb", "a\rb", "[red]x[/red]", "<script>", "", " ", "t", "gold", "caf\u00e9", "x" * 300]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def damaged_board(draw) -> bytes:
    board = copy.deepcopy(make_board())  # make_board shares lists with test_gate.SETTINGS
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["delete", "set", "set", "duplicate", "settings", "version", "rename"]))
        paths = [p for p in _paths(board) if p]
        if action in ("delete", "set") and paths:
            path = draw(st.sampled_from(paths))
            parent = board
            for part in path[:-1]:
                parent = parent[part]
            if action == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(_BAD_VALUES)))
        elif action == "duplicate" and isinstance(board.get("results"), list) and board["results"]:
            section = draw(st.sampled_from(["results", "gold"]))
            rows = board.get(section)
            if isinstance(rows, list) and rows:
                rows.append(copy.deepcopy(draw(st.sampled_from(rows))))
        elif action == "settings" and isinstance(board.get("manifest"), dict):
            settings_ = board["manifest"].get("settings")
            if isinstance(settings_, dict):
                settings_[draw(st.sampled_from(["per_class", "gold", "faithful", "new"]))] = draw(
                    st.sampled_from([100, "random", True, None, float("nan")]))
        elif action == "rename":  # the strings a report or a compare table prints
            section = draw(st.sampled_from(["results", "gold", "manifest"]))
            rows = board.get(section)
            row = rows if isinstance(rows, dict) else (draw(st.sampled_from(rows)) if isinstance(rows, list) and rows
                                                       else None)
            if isinstance(row, dict):
                row[draw(st.sampled_from(["task", "language", "strategy", "model", "classifier", "suite", "device"]))] = (
                    draw(st.sampled_from(_NAMES_IN_BOARDS)))
        elif action == "version":
            board["schema_version"] = draw(st.sampled_from(["0.1", "", 2, None, "1.2"]))
    data = json.dumps(board).encode("utf-8")  # ensure_ascii: a lone surrogate is written as the escape \ud800
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "bytes", "not-a-board"]))
    if damage == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    elif damage == "not-a-board":
        data = draw(st.sampled_from([b"[]", b"null", b"1", b'"x"', b"{}", b"", b"\xff\xfe", b'{"schema_version": 1}']))
    return data


_TOLERANCES = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                        st.sampled_from(["", "x", "nan", "-inf", "1e400", "-0", "0.5", "1_0", " 2 ", "0x1"]))


@FUZZ
@given(data=damaged_board(), tolerance=_TOLERANCES, order=st.booleans(),
       report_out=st.sampled_from([[], ["--format=html"], ["--out=folder"], ["--out=good.json/r.md"]]))
def test_a_damaged_leaderboard_is_one_line(tmp_path_factory, data, tolerance, order, report_out):
    root = fresh_dir(tmp_path_factory)
    (root / "bad.json").write_bytes(data)
    (root / "good.json").write_text(json.dumps(make_board()), encoding="utf-8")
    (root / "folder").mkdir()  # --out targets that cannot be written: the board's problem or --out is the one line
    before = _tree(root)
    for argv, ok in ((["validate", "bad.json"], (0,)),
                     (["report", "bad.json", *report_out], (0,)),
                     (["compare", *(("bad.json", "good.json") if order else ("good.json", "bad.json")),
                       f"--tolerance={tolerance}"], (0, 1)),
                     (["compare", "bad.json", "good.json", "--json"], (0, 1))):
        assert_clean(argv, bench_here(argv, root), ok)
    assert _tree(root) == before


# -- gold data files -----------------------------------------------------------------------------

_TEXTS = ["good day", "", "  ", "a,b", '"quoted"', '"open', "tab\there", "line\nbreak", "\x00", "caf\u00e9", "=1+1"]
_LABELS = ["positive", "negative", "", "Positive", "neutral", "1", '"positive"']
_IDS = ["1", "2", "", "x", "-3", "1.5", "99999999999999999999"]


def _csv_line(cells: list[str]) -> str:
    return ",".join(cells)


@st.composite
def gold_csv(draw, with_id: bool) -> bytes:
    header = ["id", "text", "intent"] if with_id else ["text", "intent"]
    header = draw(st.sampled_from([header, header, header[::-1], header[:-1], ["text", "label"], ["\ufefftext", "intent"]]))
    rows = [_csv_line(header)]
    for i in range(draw(st.integers(0, 4))):
        cells = {"id": draw(st.sampled_from(_IDS)) if draw(st.booleans()) else str(i), "text": draw(st.sampled_from(_TEXTS)),
                 "intent": draw(st.sampled_from(_LABELS)), "label": "positive", "\ufefftext": "x"}
        row = [cells[c] for c in header]
        if draw(st.integers(0, 4)) == 0:
            row = draw(st.sampled_from([row[:-1], [*row, "extra"], []]))
        rows.append(_csv_line(row))
    data = ("\n".join(rows) + draw(st.sampled_from(["\n", "", "\r\n"]))).encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "truncate", "bytes"]))
    if damage == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data


_VALID_TRAIN = b"id,text,intent\n2,a fine day,positive\n1,a bad day,negative\n3,lovely,positive\n4,awful,negative\n"
_VALID_TEST = b"text,intent\nfine,positive\nbad,negative\n"


@FUZZ
@given(train=st.one_of(gold_csv(with_id=True), st.just(_VALID_TRAIN)),
       test=st.one_of(gold_csv(with_id=False), st.just(_VALID_TEST), st.none()))
def test_a_malformed_gold_csv_is_one_line_naming_the_file(tmp_path_factory, good_suite, train, test):
    root = fresh_dir(tmp_path_factory)
    folder = root / "data" / "kinit" / "sentiment"
    folder.mkdir(parents=True)
    (folder / "sw-train_human_parsed.csv").write_bytes(train)
    if test is not None:
        (folder / "sw-test.csv").write_bytes(test)
    before = _tree(root)
    argv = ["run", str(good_suite), "--dry-run", "--data-dir", "data"]
    code, out, err, argp = bench_here(argv, root)
    assert_clean(argv, (code, out, err, argp))
    if code == 2:
        assert ".csv" in err or "(sw/train) has no example of" in err, err  # a file's line, or the split's class
        real = ["run", str(good_suite), "--out", "out", "--no-progress", "--data-dir", "data"]
        assert assert_clean(real, bench_here(real, root)) == 2
    assert _tree(root) == before


class _JsonlTaskPlugin:
    """A contributor's task from JSON Lines files, registered as an installed plugin would be."""

    def __init__(self, folder: Path):
        self.folder = folder

    @hookimpl
    def bench_register_tasks(self, register):
        register(FileTask(name="fuzz-jsonl", labels=("negative", "positive"), description="fuzzed gold files",
                          languages={"sw": Language("sw", "Swahili", "swh_Latn", "high")},
                          files={"sw": (str(self.folder / "train.jsonl"), str(self.folder / "test.jsonl"))}))


_JSON_LINES = ['{"text": "good", "label": "positive"}', '{"text": "bad", "label": "negative"}',
               '{"text": null, "label": "positive"}', '{"text": "", "label": "positive"}', '{"text": "x"}',
               '{"text": ["a"], "label": "positive"}', '{"text": "x", "label": {"a": 1}}', '{"text": 1, "label": "positive"}',
               '["x", "positive"]', "null", "1", '"x"', "{", "", "   ", '{"text": "x", "label": "neutral"}',
               '{"text": "x", "label": "positive", "text": null}', '{"text": NaN, "label": "positive"}',
               '{"text": "x", "label": true}', '{"text": "\\ud800", "label": "positive"}']


@st.composite
def gold_jsonl(draw) -> bytes:
    lines = draw(st.lists(st.sampled_from(_JSON_LINES), max_size=5))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data


@FUZZ
@given(train=gold_jsonl(), test=gold_jsonl())
def test_a_malformed_gold_jsonl_is_one_line_naming_the_file(tmp_path_factory, monkeypatch, train, test):
    from harness.registry.discovery import load_registry

    root = fresh_dir(tmp_path_factory)
    folder = root / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(train)
    (folder / "test.jsonl").write_bytes(test)
    plugin = _JsonlTaskPlugin(folder)
    monkeypatch.setattr("harness.cli.common.registry", lambda args: load_registry(extra=[("fuzz-jsonl", plugin)]))
    suite = write_suite(root / "s.toml", "gemma-3-270m", tasks=["fuzz-jsonl"])
    before = _tree(root)
    argv = ["run", str(suite), "--dry-run"]
    code, out, err, argp = bench_here(argv, root)
    assert_clean(argv, (code, out, err, argp))
    if code == 2:
        assert ".jsonl" in err or "(sw/train) has no example of" in err, err  # a file's line, or the split's class
    assert _tree(root) == before


def test_a_lone_surrogate_escape_in_a_jsonl_gold_file_is_named(tmp_path):
    """Found by the fuzzer: `"\\ud800"` is valid JSON but not text; hashing it for the data
    fingerprint raised UnicodeEncodeError, a traceback (exit 3) for a mistake in the data."""
    from harness.errors import DataError
    from harness.kits.tasks.files import read_jsonl

    path = tmp_path / "g.jsonl"
    path.write_text('{"text": "fine", "label": "pos"}\n{"text": "a\\ud800b", "label": "pos"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"g.jsonl:2: 'text' holds '\\ud800' at character 1, an unpaired surrogate"):
        read_jsonl(path, "text", "label", ["pos", "neg"])
    good = tmp_path / "ok.jsonl"
    good.write_text('{"text": "caf\\u00e9 \\ud83d\\ude00", "label": "pos"}\n', encoding="utf-8")  # a pair is fine
    assert read_jsonl(good, "text", "label", ["pos", "neg"])[0].text == "caf\u00e9 \U0001f600"


def test_a_lone_surrogate_escape_in_a_leaderboard_is_named(tmp_path):
    """Found while fuzzing leaderboards: a string `"\\ud800"` passed `bench validate`, then `bench
    report` and `bench compare` crashed writing it (UnicodeEncodeError, exit 3)."""
    board = make_board()
    board["results"][0]["task"] = "\ud800"
    (tmp_path / "bad.json").write_text(json.dumps(board), encoding="utf-8")
    (tmp_path / "good.json").write_text(json.dumps(make_board()), encoding="utf-8")
    for argv in (["validate", "bad.json"], ["report", "bad.json"], ["compare", "good.json", "bad.json", "--json"]):
        code, _, err, _ = bench_here(argv, tmp_path)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "$.results[0].task holds '\\ud800', an unpaired surrogate escape" in err, err


def test_an_error_quoting_a_line_break_stays_one_line(tmp_path):
    """Found while fuzzing leaderboards: an error naming a result whose task holds a line break (a duplicated
    row) came out as two lines."""
    board = make_board()
    board["results"][0]["task"] = "a\nb"
    board["results"].append(copy.deepcopy(board["results"][0]))
    (tmp_path / "dup.json").write_text(json.dumps(board), encoding="utf-8")
    code, _, err, _ = bench_here(["validate", "dup.json"], tmp_path)
    assert code == 2 and err.count("\n") == 1 and "a\\nb" in err and "each result may appear once" in err, err


def test_a_name_that_is_not_utf8_is_refused_naming_the_option(tmp_path, good_suite):
    """Found while fuzzing run options: `--models hf:$'\\xff'` (Python keeps the byte as the
    surrogate \\udcff) reached the cell-id digest and crashed with UnicodeEncodeError (exit 3)."""
    for option in ("--models=hf:\udcff", "--tasks=sentiment,\udcff"):
        code, out, err, _ = bench_here(["run", str(good_suite), "--dry-run", option], tmp_path)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "is not valid UTF-8 text" in err and option.split("=")[0] in err, err


@pytest.mark.parametrize("target", ["folder", "board.json/report.md"])
def test_a_report_that_cannot_be_written_is_one_line(tmp_path, target):
    """Found probing `bench report --out` with this runner: naming a directory, or a path under a file, was
    an IsADirectoryError or NotADirectoryError traceback (exit 3)."""
    (tmp_path / "board.json").write_text(json.dumps(make_board()), encoding="utf-8")
    (tmp_path / "folder").mkdir()
    before = _tree(tmp_path)
    code, _, err, _ = bench_here(["report", "board.json", "--out", target], tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"--out {target}" in err and ("is a directory" in err or "is a file, not a directory" in err), err
    assert _tree(tmp_path) == before  # no temporary file left behind


# -- paths the user names ------------------------------------------------------------------------

_PATH_KINDS = ("loop", "dangling", "file", "under-a-file")
_PATH_OPTIONS = {  # option -> how it is passed, and the name the error must say
    "--out": (lambda p: ["run", "s.toml", "--out", p], "--out"),
    "--data-dir": (lambda p: ["run", "s.toml", "--dry-run", "--data-dir", p], "--data-dir"),
    "BENCH_DATA_DIR": (lambda p: ["run", "s.toml", "--dry-run"], "BENCH_DATA_DIR"),
    "--cache-dir": (lambda p: ["run", "s.toml", "--dry-run", "--cache-dir", p], "--cache-dir"),
    "BENCH_CACHE_DIR": (lambda p: ["run", "s.toml", "--dry-run"], "BENCH_CACHE_DIR"),
    "report --out": (lambda p: ["report", "board.json", "--out", p], "--out"),
    "export --out": (lambda p: ["export", "run", "--format", "jsonl", "--out", p], "--out"),
}


def _odd_path(root: Path, kind: str, name: str) -> str:
    path = root / name
    if kind == "loop":
        (root / f"{name}-other").symlink_to(path)
        path.symlink_to(root / f"{name}-other")
    elif kind == "dangling":
        path.symlink_to(root / f"{name}-nowhere")
    elif kind == "file":
        path.write_text("x", encoding="utf-8")
    else:
        path.write_text("x", encoding="utf-8")
        path = path / "inside"
    return str(path)


@pytest.mark.parametrize("option", sorted(_PATH_OPTIONS))
@pytest.mark.parametrize("kind", _PATH_KINDS)
@pytest.mark.parametrize("name", ["p", "odd name", "caf\u00e9", "-dash"])
def test_an_odd_path_is_one_line_naming_its_option_and_writes_nothing(tmp_path_factory, good_suite, option, kind, name):
    """A symbolic-link loop, a link to nothing, a file, or a path under a file, for every path a user
    names: one line naming the option, exit 2, and nothing written (the cache, the run, the report)."""
    root = fresh_dir(tmp_path_factory)
    (root / "s.toml").write_bytes(good_suite.read_bytes())
    (root / "board.json").write_text(json.dumps(make_board()), encoding="utf-8")
    (root / "run").mkdir()
    path = _odd_path(root, kind, name)
    argv_of, said = _PATH_OPTIONS[option]
    argv = argv_of(path)
    env = {option: path} if option.startswith("BENCH_") else {}
    if "DATA_DIR" not in option and "data-dir" not in option:
        env["BENCH_DATA_DIR"] = str(Path(__file__).parent / "data" / "gold")  # the miniature gold data
    before = _tree(root)
    result = bench_here(argv, root, env)
    if (option, kind) == ("report --out", "file"):  # a report over an existing file replaces it
        assert result[0] == 0 and Path(path).read_text(encoding="utf-8").startswith("#"), result
        return
    code, _, err, _ = result
    assert_clean(argv, result, ok=())
    assert code == 2 and said in err, (option, kind, err)
    assert _tree(root) == before


def test_the_fuzz_runner_sees_exit_3_for_a_bug(tmp_path, monkeypatch):
    """The checks above would notice a traceback: a bug in a command is exit 3, and fails them."""
    import harness.results.leaderboard

    def broken(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(harness.results.leaderboard, "validate_file", broken)
    result = bench_here(["validate", "x.json"], tmp_path)
    assert result[0] == 3 and "Traceback" in result[2]
    with pytest.raises(AssertionError):
        assert_clean(["validate", "x.json"], result)
    monkeypatch.undo()
    with tempfile.TemporaryDirectory() as empty:
        assert bench_here(["validate", "x.json"], Path(empty))[0] == 2


@pytest.mark.parametrize("option", ["--out", "--cache-dir", "report --out"])
def test_a_directory_without_write_permission_is_one_line(tmp_path, good_suite, option, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access  # root writes through any permission: the check is asked as another user would be

    def access(path, mode, **kw):
        inside = Path(path) == locked or locked in Path(path).parents
        return False if inside and mode & os.W_OK else real(path, mode, **kw)

    monkeypatch.setattr("harness.store.paths.os.access", access)
    (tmp_path / "s.toml").write_bytes(good_suite.read_bytes())
    (tmp_path / "board.json").write_text(json.dumps(make_board()), encoding="utf-8")
    argv = {"--out": ["run", "s.toml", "--out", str(locked / "run")],
            "--cache-dir": ["run", "s.toml", "--out", str(tmp_path / "run"), "--cache-dir", str(locked / "c")],
            "report --out": ["report", "board.json", "--out", str(locked / "r.md")]}[option]
    locked.chmod(0o500)
    try:
        result = bench_here(argv, tmp_path, {"BENCH_DATA_DIR": str(Path(__file__).parent / "data" / "gold")})
    finally:
        locked.chmod(0o700)
    assert_clean(argv, result, ok=())
    assert option.split()[-1] in result[2] and not any(locked.iterdir())
