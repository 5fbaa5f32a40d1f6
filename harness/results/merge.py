"""`bench merge`: shard run directories into one run directory and leaderboard.

Shards are only combined when they ran the same plan: each manifest records the resolved suite,
its settings hash and the hash of the whole plan's cell ids. The plan is rebuilt here from that
suite and must hash the same, so a changed plugin, data file or harness version is caught instead of
silently mixing results. Nothing is written until every check has passed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import datadir
from harness.config.suite import Suite
from harness.errors import BenchError
from harness.pipeline.plan import Plan, build_plan
from harness.registry.discovery import Registry
from harness.results.builder import build
from harness.results.leaderboard import write_leaderboard
from harness.store.rundir import MANIFEST, RunDir, read_json, write_json, write_text


def _manifest(d: Path) -> dict[str, Any]:
    path = d / MANIFEST
    if not path.is_file():
        raise BenchError(f"{d} is not a run directory (no {MANIFEST}); pass directories written by `bench run`")
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise BenchError(f"{path} is unreadable ({exc})") from None
    if "suite_config" not in data or "plan_hash" not in data:
        raise BenchError(f"{d} was written by a harness without shard support; rerun it with this version")
    return data


def _check_same(dirs: list[Path], manifests: list[dict]) -> None:
    first, ref = dirs[0], manifests[0]
    for d, m in zip(dirs[1:], manifests[1:]):
        if m["settings_hash"] != ref["settings_hash"]:
            diff = [k for k in ref["settings"] if m["settings"].get(k) != ref["settings"][k]]
            raise BenchError(f"{d} and {first} ran different settings ({', '.join(diff) or 'settings hash'} differ); "
                             f"only shards of one configuration can be merged")
        if m["plan_hash"] != ref["plan_hash"]:
            raise BenchError(f"{d} and {first} ran different plans (other tasks, languages, strategies, models or "
                             f"classifiers); only shards of one plan can be merged")


def _check_shards(dirs: list[Path], manifests: list[dict], partial: bool) -> None:
    seen: dict[tuple[int, int], Path] = {}
    counts = set()
    for d, m in zip(dirs, manifests):
        if m.get("shard") is None:
            continue
        key = (int(m["shard"][0]), int(m["shard"][1]))
        counts.add(key[1])
        if key in seen:
            raise BenchError(f"shard {key[0]}/{key[1]} appears twice ({seen[key]} and {d}); pass each shard once")
        seen[key] = d
    if len(counts) > 1:
        raise BenchError(f"the directories were split into different shard counts {sorted(counts)}; merge one split")
    if counts and not partial:
        n = counts.pop()
        missing = [f"{i}/{n}" for i in range(n) if (i, n) not in seen]
        if missing:
            raise BenchError(f"shards {', '.join(missing)} are missing; pass all {n} shard directories, "
                             f"or --partial to merge what is there")


def _rebuild(manifest: dict, reg: Registry, where: Path, data_dir: str | Path | None) -> Plan:
    """The plan the shards ran, read from the gold data by `bench run`'s one rule; with no
    --data-dir or BENCH_DATA_DIR, the data directory the shards recorded comes first, when it is
    still there."""
    from harness.config.suite import REMOTE_DATA
    from harness.pipeline.run import choose_data_dir

    suite = Suite.from_dict(manifest["suite_config"])
    recorded = manifest.get("data_dir")
    if not data_dir and not os.environ.get(datadir.ENV) and recorded and (recorded == REMOTE_DATA or Path(recorded).is_dir()):
        data_dir = recorded
    chosen, _ = choose_data_dir(suite, data_dir)
    with datadir.reading(chosen):
        plan = build_plan(suite, reg)
    plan.data_dir = chosen
    if plan.plan_hash != manifest["plan_hash"]:
        raise BenchError(f"the plan rebuilt from {where}'s suite differs from the one it ran (plugins, gold data or "
                         f"harness version changed since); merge with the installation that ran the shards")
    return plan


def _copy(src: Path, dst: Path) -> None:
    write_text(dst, src.read_text(encoding="utf-8"))


def merge(dirs: list[Path], out: Path, reg: Registry, partial: bool = False,
          data_dir: str | Path | None = None) -> tuple[Path, dict[str, int]]:
    dirs = [d for d in dict.fromkeys(dirs)]
    for d in dirs:
        if out.resolve() == d.resolve():
            raise BenchError(f"--out {out} is one of the inputs; write the merge to a new directory")
    manifests = [_manifest(d) for d in dirs]
    _check_same(dirs, manifests)
    _check_shards(dirs, manifests, partial)
    plan = _rebuild(manifests[0], reg, dirs[0], data_dir)
    runs = [RunDir(d) for d in dirs]

    def finished(ids: list[str], path_of) -> dict[str, Path]:
        """Each cell's result file in the first directory holding it finished."""
        found: dict[str, Path] = {}
        for r in runs:
            for cid in ids:
                if cid not in found and r.done(path_of(r, cid)):
                    found[cid] = path_of(r, cid)
        return found

    gens = finished([c.id for c in plan.gen_cells], RunDir.generation)
    scores = finished([c.id for c in plan.eval_cells], RunDir.scores)
    missing = len(plan.gen_cells) - len(gens) + len(plan.eval_cells) - len(scores)
    if missing and not partial:
        raise BenchError(f"{missing} of {len(plan.gen_cells) + len(plan.eval_cells)} cells are not finished in the "
                         f"given directories; finish (rerun) the shards, or pass --partial")

    target = RunDir(out)
    m = manifests[0]
    target.open(m["settings"], m["settings_hash"], {
        "harness_version": __version__, "suite": m.get("suite", ""), "source": m.get("source", ""),
        "plan_hash": m["plan_hash"], "shard": None, "suite_config": m["suite_config"],
        "merged_from": [str(d) for d in dirs], "data_dir": datadir.record(plan.data_dir),
    })
    write_json(target.plan, plan.as_dict())
    for cid, src in gens.items():
        _copy(src, target.generation(cid))
        art = RunDir(src.parent.parent).artefacts(cid)
        if art.is_dir():
            for f in sorted(p for p in art.rglob("*") if p.is_file()):
                _copy(f, target.artefacts(cid) / f.relative_to(art))
    for cid, src in scores.items():
        _copy(src, target.scores(cid))
    for r in runs:  # summaries and demonstration draws are shared by many cells: the first copy wins
        for f in r.summaries():
            if not target.summary(f.name).exists():
                _copy(f, target.summary(f.name))
        for f in r.demo_files():  # the same draw makes the same bytes in every shard
            if not target.demos(f.name).exists():
                _copy(f, target.demos(f.name))
    with datadir.reading(plan.data_dir):
        write_leaderboard(target.leaderboard, build(plan, reg, target))
    return target.leaderboard, {"shards": len(dirs), "generations": len(gens), "scores": len(scores)}
