"""`bench export`: a finished run's synthetic training data as a dataset someone else can load.

The run directory is made for resuming and scoring, not for sharing: the accepted examples sit in
one JSON file per generation cell beside statistics only this harness reads, and what a reader needs
to trust them (which model at which revision, which prompts, which seeds, what the data reached
against real data, under which licences) is spread over the manifest, the leaderboard and the
candidates. An export puts each cell's examples in a standard format through the `datasets`
library and writes one dataset card that gathers all of that, so the data never travels without
the facts that qualify it."""

from __future__ import annotations

import fnmatch
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import BenchError
from harness.records import Candidate, CandidateStatus, GenerationRecord
from harness.store.ownership import EXPORT_MARK, check_export_target, replace_export
from harness.store.rundir import MANIFEST, RunDir, write_text

if TYPE_CHECKING:
    from datasets import Dataset

    from harness.results.model import Gap, Leaderboard, Manifest, Replicate, Result, Stat

FORMATS = ("jsonl", "csv", "parquet", "hf")
#: file name per cell for the formats that write one file; `hf` writes a directory per cell
SUFFIX = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}
ACCEPTED_COLUMNS = ("text", "label")
ALL_COLUMNS = ("text", "label", "status", "reason", "reviser_reply")
SURPLUS_REASON = "valid, but beyond the requested count for its class"

UNKNOWN_TERMS = (None, "see the model card for the terms its outputs are under")


def task_licence(reg: Any, task: str, language: str) -> tuple[str, str]:
    """(hub licence id, words) of the gold data a cell's task and language come from, as the task
    declares it (`Task.licence`); a task no longer registered is said to be unknown."""
    if task in reg.tasks:
        return reg.tasks[task].licence(language)
    return "other", f"task {task!r}: not known here; see the task plugin's data source"


def model_terms(reg: Any, model: str, identity: Any = None) -> tuple[str | None, str]:
    """(hub licence id or None, words): the terms a model's plugin declares bind what it generates
    (`ModelSpec.terms`), or a pointer to its card."""
    try:
        spec, _ = reg.model(model)
    except BenchError:
        return UNKNOWN_TERMS
    return (spec.terms(model, identity) if spec.terms else None) or UNKNOWN_TERMS


@dataclass
class CellExport:
    """One generation cell as exported: its id, its rows and where they were written. `generation`
    is the cell's generations/<cell>.json (a run file, not part of the leaderboard model)."""

    cell_id: str
    generation: GenerationRecord
    rows: list[dict[str, Any]]
    candidates_kept: bool  # False: --all-candidates found no candidates.json, so only accepted rows
    path: Path | None = None
    dataset: Dataset | None = field(default=None, repr=False)


def finished_cells(run: RunDir, pattern: str | None = None) -> list[str]:
    """The ids of the finished generation cells, filtered by a glob. A cell still running (or cut
    short) is never exported: its file would be a partial dataset presented as a whole one."""
    ids = [cid for cid in run.generation_ids() if run.done(run.generation(cid))]
    if not ids:
        raise BenchError(f"{run.root} holds no finished generation cell; run it to the end with `bench run` first")
    if pattern is None:
        return ids
    globs = [g.strip() for g in pattern.split(",") if g.strip()]
    chosen = [c for c in ids if any(fnmatch.fnmatchcase(c, g) for g in globs)]
    if not chosen:
        raise BenchError(f"--cells {pattern!r} matches none of the {len(ids)} finished generation cells of {run.root}; "
                         f"`ls {run.root / 'generations'}` lists their ids (the file names without .json)")
    return chosen


def check_run(root: Path) -> tuple[RunDir, Leaderboard]:
    """The run directory and its leaderboard. The card states scores, so a run without its
    leaderboard (still running, killed, or not a run at all) is refused rather than half described."""
    run = RunDir(root)
    if not root.is_dir():
        raise BenchError(f"{root} does not exist or is not a directory; pass a run directory made by `bench run`")
    if not (root / MANIFEST).is_file():
        raise BenchError(f"{root} holds no {MANIFEST}, so it is not a run directory; pass the --out of a `bench run`")
    if not run.leaderboard.is_file():
        raise BenchError(f"{root} holds no leaderboard.json: the run is not finished; rerun the same `bench run` "
                         f"to finish it (finished cells are kept)")
    from harness.results.leaderboard import validate_file

    return run, validate_file(run.leaderboard)


def cell_rows(generation: GenerationRecord, candidates: list[Candidate] | None,
              all_candidates: bool) -> list[dict[str, Any]]:
    """The rows of one cell. The accepted examples come first and in the order of
    generations/<cell>.json, so that filtering `status == "accepted"` gives exactly the set the
    classifier was trained on; the other candidates follow in the order they were generated."""
    examples = generation.examples
    if not all_candidates:
        return [{"text": e.text, "label": e.label} for e in examples]
    replies = {}
    for c in candidates or []:
        if c.kind is CandidateStatus.ACCEPTED and c.judged:
            replies[(c.label, c.text)] = c.reason
    rows = [{"text": e.text, "label": e.label, "status": "accepted", "reason": None,
             "reviser_reply": replies.get((e.label, e.text))} for e in examples]
    for c in candidates or []:
        if c.kind is CandidateStatus.ACCEPTED:
            continue
        surplus = c.kind is CandidateStatus.SURPLUS
        rows.append({"text": c.text, "label": c.label, "status": "surplus" if surplus else "rejected",
                     "reason": SURPLUS_REASON if surplus else (c.status or CandidateStatus.UNKNOWN.value),
                     "reviser_reply": c.reason if c.judged else None})
    return rows


def to_dataset(rows: list[dict[str, Any]], all_candidates: bool) -> Dataset:
    """Explicit string features, so that a cell with no accepted example (or no reviser reply)
    still has the same columns and types as the others."""
    from datasets import Dataset, Features, Value

    columns = ALL_COLUMNS if all_candidates else ACCEPTED_COLUMNS
    features = Features({c: Value("string") for c in columns})
    return Dataset.from_list(rows, features=features) if rows else Dataset.from_dict(
        {c: [] for c in columns}, features=features)


def write_dataset(ds: Dataset, out: Path, cell_id: str, fmt: str) -> Path:
    """One file (or, for `hf`, one save_to_disk directory) per cell, named by the cell id."""
    if fmt == "hf":
        path = out / cell_id
        ds.save_to_disk(str(path))
        return path
    path = out / f"{cell_id}{SUFFIX[fmt]}"
    if fmt == "jsonl":
        ds.to_json(str(path), lines=True, force_ascii=False)
    elif fmt == "csv":
        ds.to_csv(str(path), index=False)
    else:
        ds.to_parquet(str(path))
    return path


def export(root: str | Path, out: str | Path, fmt: str, cells: str | None = None, all_candidates: bool = False,
           push_to_hub: str | None = None) -> list[CellExport]:
    """Write every selected finished cell of run `root` to `out` in `fmt`, then the card
    (out/README.md); with `push_to_hub`, also publish the datasets and the card to that repository."""
    if fmt not in FORMATS:
        raise BenchError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    run, board = check_run(Path(root))
    ids = finished_cells(run, cells)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BenchError(f"--out {out} is a file; choose a directory")
    check_export_target(out, "--out")
    staged = out / ".partial"
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / EXPORT_MARK).touch()  # claims a new folder before anything else is written there
        shutil.rmtree(staged, ignore_errors=True)  # what an interrupted export left
        staged.mkdir()
    except OSError as exc:
        raise BenchError(f"--out {out}: cannot create it ({exc.strerror or exc})") from None
    import datasets

    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one summary line from the command, not a bar per file
    try:
        exports = _write_all(run, ids, staged, fmt, all_candidates)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    from harness.registry.discovery import load_registry

    text = card(board, exports, fmt, all_candidates, load_registry(), run.root)
    write_text(staged / "README.md", text)
    replace_export(out, staged, {"run": str(run.root.resolve()), "format": fmt})
    for item in exports:
        item.path = out / item.path.name if item.path is not None else None
    if push_to_hub:
        push(exports, push_to_hub, out / "README.md")
    return exports


def _write_all(run: RunDir, ids: Sequence[str], out: Path, fmt: str, all_candidates: bool) -> list[CellExport]:
    exports = []
    for cell_id in ids:
        generation = run.read_generation(cell_id)
        kept = run.read_candidates(cell_id)
        candidates = kept.candidates if kept is not None else None
        rows = cell_rows(generation, candidates, all_candidates)
        item = CellExport(cell_id, generation, rows, candidates_kept=candidates is not None)
        item.dataset = to_dataset(rows, all_candidates)
        item.path = write_dataset(item.dataset, out, cell_id, fmt)
        exports.append(item)
    return exports


def push(exports: Sequence[CellExport], repo: str, card_path: Path) -> None:
    """Publish the card first, then each cell as a config of one dataset repository: `push_to_hub`
    keeps an existing README's text and only adds each config's files and features to its header."""
    try:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        api.upload_file(path_or_fileobj=str(card_path), path_in_repo="README.md", repo_id=repo, repo_type="dataset")
        for item in exports:
            if item.dataset is not None and item.rows:  # an empty split cannot be pushed or loaded
                item.dataset.push_to_hub(repo, config_name=item.cell_id, split="train")
    except Exception as exc:  # offline, no token, no rights: the files on disk are still written
        first = (str(exc).strip().splitlines() or [""])[0]
        raise BenchError(f"--push-to-hub {repo}: {type(exc).__name__}: {first} (the export itself was written; "
                         f"check the network and `huggingface-cli login`)") from None


# -- the card ----------------------------------------------------------------------------------
def _pct(stat: Stat | None, missing: str = "-") -> str:
    """A macro-F1 summary in points with its interval, or what it lacks."""
    if stat is None:
        return missing
    text = f"{100 * stat.mean:.1f}"
    ci = stat.ci95
    return text + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else f" (no interval: {stat.no_interval or f'n={stat.n}'})")


def _gap(block: Gap | None) -> str:
    if block is None:
        return "-"
    pts = block.points
    ci = pts.ci95
    return f"{pts.mean:+.1f}" + (f" [{ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else "")


def _rows_of(board: Leaderboard, cell_id: str) -> list[tuple[Result, Replicate]]:
    """The leaderboard rows (one per classifier) that scored a cell, with the cell's replicate record."""
    return [(r, rep) for r in board.results for rep in r.replicates if rep.cell_id == cell_id]


def _identity(identity: Any) -> str:
    if not identity:
        return "not recorded"
    items = identity if isinstance(identity, list) else [identity]
    return "; ".join(", ".join(f"{k}={_plain(v)}" for k, v in i.items()) if isinstance(i, dict) else str(i)
                     for i in items)


def _plain(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict | list) else str(value)


STAT_KEYS = ("requested", "accepted", "rejected", "duplicates", "parsed", "acceptance_rate", "duplicate_rate",
             "off_language_rate", "off_language_accepted", "off_script", "distinct_1", "distinct_2", "mean_length",
             "gold_mean_length", "llm_calls")


def _cell_section(item: CellExport, board: Leaderboard, reg: Any, fmt: str, all_candidates: bool) -> list[str]:
    from harness.pipeline.seeds import sampling_seed

    g = item.generation
    m = board.manifest
    cfg, stats = g.cell, g.stats.to_json()
    task, code, strategy, model = cfg.get("task", "?"), cfg.get("language", "?"), cfg.get("strategy", "?"), cfg.get("model", "?")
    replicate = int(cfg.get("replicate", 0))
    rows = _rows_of(board, item.cell_id)
    lang = None
    if task in reg.tasks:
        lang = reg.tasks[task].languages().get(code)
    name = lang.name if lang else (rows[0][0].language_name if rows else "?")
    iso = lang.iso if lang else (rows[0][0].language_iso if rows else "?")
    task_desc = reg.tasks[task].description if task in reg.tasks else "(task not registered here)"
    strat_desc = reg.strategies[strategy].description if strategy in reg.strategies else "(strategy not registered here)"
    identity = stats.get("model_identity") or (m.models or {}).get(model)
    seed = cfg.get("seed", m.generation_seed)
    where = item.path.name if item.path else item.cell_id
    lines = [
        f"### {item.cell_id}",
        "",
        (f"- directory: `{where}/` (datasets.load_from_disk)" if fmt == "hf" else f"- file: `{where}`")
        + f", {len(item.rows)} rows"
        + (f" ({len(g.examples)} accepted)" if all_candidates else ""),
        f"- task: {task}: {task_desc}",
        f"- language: {name} (code {code}, ISO {iso})",
        f"- strategy: {strategy}: {strat_desc}",
        f"- model: {model}; identity and revision: {_identity(identity)}",
        f"- method fingerprint (prompts and code of the strategy): {cfg.get('method', '?')}",
        f"- sampling: {', '.join(f'{k}={v}' for k, v in cfg.get('sampling', {}).items())}; "
        f"{cfg.get('samples_per_request', '?')} samples per request, at most {cfg.get('calls_per_class', '?')} "
        f"requests per class, {cfg.get('per_class', '?')} examples requested per class",
        f"- seeds: generation seed {seed}, replicate {replicate}; sampling seed "
        f"{sampling_seed(int(seed or 0), task, code, strategy, model, replicate) if seed is not None else '?'} "
        f"(derived from the generation seed, task, language, strategy, model and replicate; each request's seed "
        f"is derived from it, the label and the round)",
        "- generation statistics: " + ", ".join(f"{k} {stats[k]}" for k in STAT_KEYS if k in stats),
    ]
    if not item.rows:
        lines.append("- no row: the model's output gave no accepted example; the file is written empty and left out "
                     "of the configs and of a push (`datasets` cannot load an empty split)")
    if stats.get("shortfall"):
        lines.append("- short of the requested count: " + ", ".join(f"{k} {v}" for k, v in stats["shortfall"].items()))
    if all_candidates and not item.candidates_kept:
        lines.append("- candidates: this strategy kept no candidates.json, so only the accepted examples are exported")
    lic = task_licence(reg, task, code)[1]
    lines.append(f"- gold data licence: {lic}")
    return lines + _score_table(rows, board.manifest) + [""]


def _score_table(rows: list[tuple[Result, Replicate]], m: Manifest) -> list[str]:
    """How the leaderboard scored a cell: one line per classifier, or that it was not scored."""
    if not rows:
        return ["- gold score: no leaderboard row scored this cell"]
    lines = ["", "| classifier | macro-F1 of this data [95% CI] | gold baseline macro-F1 [95% CI] | "
                 "gap to gold, points [95% CI] | this replicate's macro-F1 |", "|---|---|---|---|---|"]
    for r, rep in rows:
        mine = "-" if rep.macro_f1 is None else f"{100 * rep.macro_f1:.1f}"
        floor = r.floor.macro_f1 if r.floor else None
        unscored = "not scored (fewer than two classes" + (
            f"; majority-class floor {100 * floor:.1f})" if floor is not None else ")")
        scores = r.scores.macro_f1 if r.scores else None
        gold = r.gold.macro_f1 if r.gold else None
        lines.append(f"| {r.classifier} | {_pct(scores, unscored)} | "
                     f"{_pct(gold, 'no gold baseline')} | {_gap(r.gap_to_gold)} | {mine} |")
    replicates = 1 if m.replicates is None else m.replicates
    return lines + ["", "Scores pool the row's generation replicates; the intervals cover "
                        f"{'generation replicates' if replicates >= 2 else 'classifier seeds only'}."]


def card(board: Leaderboard, exports: Sequence[CellExport], fmt: str, all_candidates: bool, reg: Any,
         run_root: Path) -> str:
    """The dataset card: YAML header for the hub (licences, languages, task, one config per cell),
    then what a user of the data must know, shared facts first, then one section per cell."""
    # long: the card's text in reading order, a template with its values; split, it would be read in pieces
    import yaml

    m = board.manifest
    licences: dict[str, str] = {}
    model_lines: dict[str, str] = {}
    languages: list[str] = []
    for item in exports:
        cfg = item.generation.cell
        lid, _ = task_licence(reg, cfg.get("task", ""), cfg.get("language", ""))
        licences.setdefault(lid, "")
        ident = item.generation.stats.model_identity
        mid, words = model_terms(reg, cfg.get("model", ""), ident)
        if mid:
            licences.setdefault(mid, "")
        model_lines[cfg.get("model", "?")] = words
        if cfg.get("language") and cfg["language"] not in languages:
            languages.append(cfg["language"])
    header: dict[str, Any] = {
        "license": sorted(licences) if len(licences) > 1 else next(iter(licences), "other"),
        "language": languages,
        "task_categories": ["text-classification"],
        "tags": ["synthetic"],
        "pretty_name": f"Synthetic data of the {m.suite} suite",
    }
    if fmt in SUFFIX:
        header["configs"] = [{"config_name": i.cell_id, "data_files": [{"split": "train", "path": i.path.name}]}
                             for i in exports if i.path is not None and i.rows]
    columns = ("`text`, `label`, `status` (accepted; rejected, with `reason`; surplus: valid but beyond the "
               "requested count), `reason`, `reviser_reply` (the reviser's reply, where the strategy revises)"
               if all_candidates else "`text`, `label` (the accepted examples, the classifier's training set)")
    loader = {"jsonl": 'load_dataset("json", data_files="<cell>.jsonl")',
              "csv": 'load_dataset("csv", data_files="<cell>.csv", keep_default_na=False)',
              "parquet": 'load_dataset("parquet", data_files="<cell>.parquet")',
              "hf": 'load_from_disk("<cell>")'}[fmt]
    settings = m.settings
    lines = [
        "---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        f"# Synthetic text-classification data: suite {m.suite}", "",
        f"Generated by a language model with lowres-bench (harness {m.harness_version}, git commit "
        f"{m.git_commit or 'unknown'}), run created {m.created}, settings hash "
        f"{m.settings_hash}. {len(exports)} generation cell(s), one dataset each, named by its cell id.",
        "",
        f"Columns: {columns}. Load a cell with `datasets.{loader}`.", "",
        "## Licences", "",
        "The examples imitate gold data (its labels and, for strategies with demonstrations, its examples) and were "
        "written by a model; both sets of terms apply.", "",
    ]
    gold_seen = []
    for item in exports:
        cfg = item.generation.cell
        words = f"{cfg.get('task', '?')}/{cfg.get('language', '?')}: {task_licence(reg, cfg.get('task', ''), cfg.get('language', ''))[1]}"
        if words not in gold_seen:
            gold_seen.append(words)
    lines += [f"- gold data, {w}" for w in gold_seen]
    lines += [f"- model {k}: {w}" for k, w in model_lines.items()]
    lines += ["", "## How it was made", "",
              f"- generation seed {m.generation_seed}; classifier seeds {m.seeds}; replicates "
              f"{1 if m.replicates is None else m.replicates} (each with its own demonstrations and sampling seed); "
              f"gold draw {m.gold_draw}",
              f"- sampling: {', '.join(f'{k}={v}' for k, v in settings.get('sampling', {}).items())}"
              + (f"; per model: {settings['model_sampling']}" if settings.get("model_sampling") else ""),
              f"- per class requested {settings.get('per_class')}, demonstrations per class "
              f"{settings.get('demos_per_class')}, faithful reproduction of the reference quirks: {settings.get('faithful')}",
              "- models and the identity of the engine that generated with them: "
              + ("; ".join(f"{k}: {_identity(v)}" for k, v in (m.models or {}).items()) or "not recorded"),
              "- method fingerprints (strategy: digest of its prompts and code): "
              + (", ".join(f"{k} {v}" for k, v in (m.method_fingerprints or {}).items()) or "not recorded"),
              f"- intervals: {'over classifier seeds' if m.intervals is None else m.intervals}",
              "- gold score: a classifier trained on a cell's accepted examples and one trained on the same number "
              "of real examples, both scored on the real test set (macro-F1, points)",
              "", "## Cells", ""]
    for item in exports:
        lines += _cell_section(item, board, reg, fmt, all_candidates)
    lines.append(f"Exported from `{run_root}`.")
    return "\n".join(lines) + "\n"
