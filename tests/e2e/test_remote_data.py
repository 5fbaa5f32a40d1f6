"""`--data-dir remote`: the gold files fetched from pinned public sources give the same records as the
offline copy. The public hosts are out of reach here, so a local HTTP mirror with the offline copy's
layout stands in for them (BENCH_DATA_MIRROR), exercising the real download path."""

import functools
import http.server
import threading

import pytest

from conftest import bench, shared_data
from harness.errors import DataError
from harness.kits.tasks import remote
from plugins.tasks.gold import Massive10, Sentiment, Sib200


@pytest.fixture
def mirror():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(shared_data()))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_remote_records_equal_the_offline_copy(mirror, monkeypatch, tmp_path):
    local = {}
    for task, lang in ((Massive10(), "de"), (Sentiment(), "sw"), (Sib200(), "te")):
        for split in ("train", "test"):
            local[(task.name, lang, split)] = task.load(lang, split)
    monkeypatch.setenv("BENCH_DATA_DIR", "remote")
    monkeypatch.setenv("BENCH_DATA_MIRROR", mirror)
    for task, lang in ((Massive10(), "de"), (Sentiment(), "sw"), (Sib200(), "te")):
        for split in ("train", "test"):
            assert task.load(lang, split) == local[(task.name, lang, split)]
    fetched = sorted(p.relative_to(tmp_path / "cache" / "gold-data").as_posix()
                     for p in (tmp_path / "cache" / "gold-data").rglob("*") if p.is_file())
    assert "sib200/annotated/tel_Telu/train.tsv" in fetched and "kinit/intent/de-test.csv" in fetched
    assert not [f for f in fetched if "/." in f]  # no partial downloads left behind


def test_public_sources_are_pinned_to_commits(monkeypatch):
    monkeypatch.delenv("BENCH_DATA_MIRROR", raising=False)
    assert remote.url_for("sib200/annotated/yor_Latn/test.tsv").endswith(
        "/593cea88519930f776c1a4a1980b6a35b39dca57/data/annotated/yor_Latn/test.tsv")
    assert "/13dd578/data/intent/sw-test.csv" in remote.url_for("kinit/intent/sw-test.csv")


def test_unreachable_source_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", "remote")
    monkeypatch.setenv("BENCH_DATA_MIRROR", "http://127.0.0.1:1")
    with pytest.raises(DataError, match="cannot download gold file .* use the offline copy with --data-dir"):
        Massive10().load("sw", "test")
    # the CLI passes `remote` through (not resolved as a folder name); planning fingerprints the data
    # each cell reads, so an unreachable source fails there, before any model loads, in one line
    out = bench("run", "--data-dir", "remote", "--tasks", "massive10", "--languages", "sw", "--dry-run",
                env={"BENCH_DATA_MIRROR": "http://127.0.0.1:1"})
    assert out.returncode == 2 and "cannot download gold file http://127.0.0.1:1/kinit/intent/" in out.stderr
    assert "Traceback" not in out.stderr


def test_without_the_offline_copy_the_run_reads_the_public_sources_and_says_so(mirror, monkeypatch, tmp_path):
    from conftest import write_suite

    suite = write_suite(tmp_path / "s.toml", "gemma-3-270m", tasks=["massive10"], languages=["sw"])
    text = suite.read_text().replace('name = "test"', 'name = "test"\ndata_dir = "no-such-copy"')
    suite.write_text(text, encoding="utf-8")
    monkeypatch.delenv("BENCH_DATA_DIR")
    monkeypatch.setattr("harness.pipeline.run.BESIDE_CHECKOUT", tmp_path / "no-checkout-copy")
    out = bench("run", str(suite), "--dry-run", env={"BENCH_DATA_MIRROR": mirror})
    assert out.returncode == 0, out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("gold data:")]
    assert "no-such-copy does not exist" in line and "pinned public sources" in line
    assert (tmp_path / "cache" / "gold-data" / "kinit" / "intent" / "sw-test.csv").is_file()
    # a directory the user names must exist: no silent fallback
    named = bench("run", str(suite), "--dry-run", "--data-dir", str(tmp_path / "typo"), env={"BENCH_DATA_MIRROR": mirror})
    assert named.returncode == 2 and "does not exist" in named.stderr


def test_a_download_with_other_bytes_than_the_pinned_copy_is_refused(tmp_path, monkeypatch):
    changed = tmp_path / "mirror" / "kinit" / "intent"
    changed.mkdir(parents=True)
    original = (shared_data() / "kinit" / "intent" / "sw-test.csv").read_text(encoding="utf-8")
    (changed / "sw-test.csv").write_text(original.replace("tafadhali", "tafadhari", 1), encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "mirror"))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("BENCH_DATA_DIR", "remote")
        monkeypatch.setenv("BENCH_DATA_MIRROR", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(DataError, match="does not have the bytes of the pinned copy"):
            Massive10().load("sw", "test")
        assert not (tmp_path / "cache" / "gold-data" / "kinit" / "intent" / "sw-test.csv").exists()
    finally:
        server.shutdown()
