"""The leaderboard's manifest: what made the results (harness, plugins, libraries, device, settings,
data and method fingerprints) and which variance its intervals cover."""

from __future__ import annotations

import platform
from datetime import UTC, datetime

from harness import __version__
from harness.environment import cpu, device, git_commit, library_versions
from harness.pipeline.plan import Plan
from harness.registry.discovery import Registry
from harness.results.model import Manifest, Plugin


def intervals(replicates: int, gold: str) -> str:
    """Which variance the leaderboard's intervals cover, in words (each interval also names its
    units in its `over` field)."""
    draw = "a seeded random gold subset per replicate" if gold == "random" else "the first N gold examples per class"
    if replicates >= 2:
        return (f"95% Student-t intervals (within the metric's range) over {replicates} generation replicates: each replicate has its own "
                f"demonstrations, sampling seed and classifier seeds, and {draw}; a replicate's value is its mean over "
                f"classifier seeds, so the intervals cover generation"
                f"{', gold-draw' if gold == 'random' else ''} and classifier variance; differences (gap to gold, "
                f"comparisons) are paired by replicate; fewer than two finished replicates fall back to classifier "
                f"seeds, as the interval's `over` field says")
    return (f"95% Student-t intervals (within the metric's range) over classifier seeds only: one generated set per cell and {draw}, so the "
            f"variance of generation{' and of the gold draw' if gold == 'random' else ''} is not covered (set "
            f"[generation] replicates >= 2 for that); differences (gap to gold, comparisons) are paired by classifier "
            f"seed; a single seed gives no interval (null)")


def manifest(plan: Plan, reg: Registry) -> Manifest:
    return Manifest(
        harness_version=__version__,
        plugins=[Plugin(name=p.name, distribution=p.distribution, version=p.version) for p in reg.plugins
                 if not p.error],
        libraries=library_versions(),
        device=device(),
        cpu=cpu(),
        python=platform.python_version(),
        suite=plan.suite.name,
        settings=plan.suite.settings(),
        settings_hash=plan.settings_hash,
        seeds=plan.suite.seeds,
        generation_seed=plan.suite.seed,
        git_commit=git_commit(),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # what the results were made from, as MTEB records a dataset revision
        data_fingerprints=plan.provenance.get("data", {}),
        method_fingerprints=plan.provenance.get("methods", {}),
        replicates=plan.suite.replicates,
        gold_draw=plan.suite.gold,
        intervals=intervals(plan.suite.replicates, plan.suite.gold),
        # hub datasets and the commits they were read at
        data_sources=plan.provenance.get("sources") or None,
    )
