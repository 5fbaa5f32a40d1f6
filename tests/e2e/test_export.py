"""`bench export`: a finished run's generation cells as datasets that load back with the `datasets`
library, row for row the accepted examples, with a card that states where they came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.cli import main as cli
from harness.store.rundir import RunDir, read_json, write_json

ALL = ("text", "label", "status", "reason", "reviser_reply")


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["export", *args])
    return code, capsys.readouterr().err


def generations(run: Path) -> dict[str, dict]:
    return {p.stem: read_json(p) for p in sorted((run / "generations").glob("*.json"))}


def load(fmt: str, path: Path, cache: Path, columns: tuple[str, ...] = ("text", "label")) -> list[dict]:
    import datasets

    if fmt == "hf":
        ds = datasets.load_from_disk(str(path))
    else:
        kind = "json" if fmt == "jsonl" else fmt
        extra = {"keep_default_na": False} if fmt == "csv" else {}  # a text such as "NA" stays text
        # the json loader cannot infer the columns of an empty file (a cell that accepted nothing)
        features = datasets.Features({c: datasets.Value("string") for c in columns})
        ds = datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=str(cache), features=features,
                                   **extra)
    return ds.to_list()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "hf"])
def test_each_format_loads_back_as_the_accepted_examples(tiny_run, tmp_path, capsys, fmt):
    out = tmp_path / "out"
    code, err = run_cli(capsys, str(tiny_run), "--format", fmt, "--out", str(out))
    assert code == 0, err
    gens = generations(tiny_run)
    assert gens
    for cell_id, gen in gens.items():
        path = out / (cell_id if fmt == "hf" else f"{cell_id}.{fmt}")
        assert path.exists(), sorted(p.name for p in out.iterdir())
        if not gen["examples"]:
            continue  # `datasets` cannot load an empty split back; the card says the cell has no example
        assert load(fmt, path, tmp_path / "cache") == gen["examples"]
    assert (out / "README.md").is_file()


def header(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_card_states_origin_scores_and_licences(tiny_run, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(capsys, str(tiny_run), "--format", "jsonl", "--out", str(out))[0] == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    head = header(card)
    assert head["task_categories"] == ["text-classification"]
    assert set(head["language"]) == {"sw", "sl"}
    assert "cc-by-4.0" in head["license"] and "mit" in head["license"]  # MASSIVE, and the sentiment sources
    gens = generations(tiny_run)
    assert {c["config_name"] for c in head["configs"]} == {c for c, g in gens.items() if g["examples"]}
    assert all(c["data_files"][0]["path"] == f"{c['config_name']}.jsonl" for c in head["configs"])
    board = read_json(tiny_run / "leaderboard.json")
    manifest = board["manifest"]
    for cell_id, gen in gens.items():
        assert f"### {cell_id}" in card
        section = card.split(f"### {cell_id}")[1].split("\n### ")[0]
        cfg = gen["cell"]
        assert f"task: {cfg['task']}: " in section
        assert f"(code {cfg['language']}, ISO " in section
        assert f"strategy: {cfg['strategy']}: " in section and "no revision" in section  # its description
        assert f"method fingerprint (prompts and code of the strategy): {cfg['method']}" in section
        assert f"generation seed {manifest['generation_seed']}, replicate 0; sampling seed " in section
        assert "temperature=0.9" in section and f"accepted {gen['stats']['accepted']}" in section
        assert "distinct_2" in section and "off_language_rate" in section
        identity = gen["stats"]["model_identity"]
        assert f"backend={identity['backend']}" in section and identity["weights"]["hash"] in section
        rows = [r for r in board["results"] if r["cell_id"] == cell_id]
        assert rows
        for r in rows:
            f1 = f"{100 * r['scores']['macro_f1']['mean']:.1f}" if r["scores"] else "not scored"
            assert f"| {r['classifier']} | {f1}" in section
            if r["gold"]:
                assert f"{100 * r['gold']['macro_f1']['mean']:.1f}" in section
            else:
                assert "no gold baseline" in section
    assert "MASSIVE (Amazon), CC BY 4.0" in card
    assert "see the model card" in card
    assert "classifier seeds [0, 1]" in card


def test_all_candidates_adds_rejected_with_reasons_and_replies(tiny_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    gens = generations(run)
    with_cands = [c for c in gens if RunDir(run).candidates(c).is_file()]
    assert len(with_cands) >= 2
    revised, plain = with_cands[0], with_cands[1]
    # what a revising strategy keeps: a verdict and the reviser's reply on each judged candidate
    path = RunDir(run).candidates(revised)
    data = read_json(path)
    data["candidates"].append({"round": 9, "label": gens[revised]["examples"][0]["label"], "text": "judged and refused",
                               "verdict": "no", "reason": "No, it is about something else.",
                               "status": "rejected by revision"})
    write_json(path, data)
    RunDir(run).candidates(plain).unlink()  # a strategy that keeps no candidates
    out = tmp_path / "out"
    code, err = run_cli(capsys, str(run), "--format", "parquet", "--out", str(out), "--all-candidates")
    assert code == 0, err
    for cell_id, gen in gens.items():
        n = len(gen["examples"])
        others = [] if cell_id == plain else [
            c for c in read_json(RunDir(run).candidates(cell_id))["candidates"] if c["status"] != "accepted"]
        if not n and not others:
            continue
        rows = load("parquet", out / f"{cell_id}.parquet", tmp_path / "cache", ALL)
        assert [{"text": r["text"], "label": r["label"]} for r in rows[:n]] == gen["examples"]
        assert all(r["status"] == "accepted" and r["reason"] is None for r in rows[:n])
        if cell_id == plain:
            assert len(rows) == n
            continue
        assert [(r["text"], r["label"]) for r in rows[n:]] == [(c["text"], c["label"]) for c in others]
        for r, c in zip(rows[n:], others):
            if c["status"] == "surplus":
                assert r["status"] == "surplus"
            else:
                assert (r["status"], r["reason"]) == ("rejected", c["status"])
        if cell_id == revised:
            assert rows[-1]["reviser_reply"] == "No, it is about something else."
            assert rows[-1]["reason"] == "rejected by revision"
    card = (out / "README.md").read_text(encoding="utf-8")
    section = card.split(f"### {plain}")[1].split("\n### ")[0]
    assert "kept no candidates.json, so only the accepted examples are exported" in section
    assert "`reviser_reply`" in card


def test_cells_glob_selects_and_an_unmatched_glob_is_one_line(tiny_run, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = run_cli(capsys, str(tiny_run), "--format", "jsonl", "--out", str(out), "--cells", "sentiment.sw.*")
    assert code == 0, err
    written = sorted(p.name for p in out.glob("*.jsonl"))
    expected = sorted(f"{c}.jsonl" for c in generations(tiny_run) if c.startswith("sentiment.sw."))
    assert written == expected and expected
    code, err = run_cli(capsys, str(tiny_run), "--format", "jsonl", "--out", str(tmp_path / "o2"), "--cells", "nope*")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("bench: error: --cells 'nope*' matches none")
    assert "generations" in err  # how to see the valid ids


def test_missing_or_unfinished_run_is_one_line_exit_2(tiny_run, tmp_path, capsys):
    code, err = run_cli(capsys, str(tmp_path / "absent"), "--format", "csv")
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "leaderboard.json").unlink()
    code, err = run_cli(capsys, str(run), "--format", "csv")
    assert code == 2 and err.count("\n") == 1 and "not finished" in err
    with pytest.raises(SystemExit) as exc:  # argparse's own check, one line too
        cli.main(["export", str(run), "--format", "xml"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--format" in err


def test_push_to_hub_publishes_card_and_each_cell(tiny_run, tmp_path, capsys, monkeypatch):
    import datasets
    import huggingface_hub

    calls: list[tuple] = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo",
                        lambda self, repo, **kw: calls.append(("create", repo, kw.get("repo_type"))))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_file",
                        lambda self, **kw: calls.append(("card", kw["repo_id"], kw["path_in_repo"])))
    monkeypatch.setattr(datasets.Dataset, "push_to_hub",
                        lambda self, repo, **kw: calls.append(("push", repo, kw["config_name"], len(self))))
    code, err = run_cli(capsys, str(tiny_run), "--format", "jsonl", "--out", str(tmp_path / "out"),
                        "--push-to-hub", "someone/synthetic")
    assert code == 0, err
    gens = generations(tiny_run)
    assert calls[:2] == [("create", "someone/synthetic", "dataset"), ("card", "someone/synthetic", "README.md")]
    assert calls[2:] == [("push", "someone/synthetic", c, len(g["examples"])) for c, g in gens.items() if g["examples"]]


def test_push_to_hub_without_network_is_one_line(tiny_run, tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # what HF_HUB_OFFLINE=1 sets: no request leaves
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "out"
    code, err = run_cli(capsys, str(tiny_run), "--format", "jsonl", "--out", str(out), "--push-to-hub", "someone/x")
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("bench: error: --push-to-hub someone/x: OfflineModeIsEnabled: ")
    assert (out / "README.md").is_file()  # the local export is kept
