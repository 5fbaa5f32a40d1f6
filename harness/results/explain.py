"""Which property of the data predicts its usefulness here: each row's diagnostics pooled over its
replicates, and across the rows of a run the Spearman rank correlation of each diagnostic with the
gap to gold (scipy), per classifier. With a handful of rows a correlation is weak evidence: the
p-value and n are given beside rho, and fewer than three rows, or a diagnostic that does not vary,
give no rho at all (with the reason)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import fields

from harness import records
from harness.results.model import Correlation, Diagnostics, Result

DIAGNOSTICS = ("label_fidelity", "diversity", "distance_to_gold")


def pooled_diagnostics(records: Sequence[records.Diagnostics | None]) -> Diagnostics | None:
    """The mean over replicates of each diagnostic (a replicate that has none is left out)."""
    got = [r.to_json() for r in records if r is not None and r.to_json()]
    if not got:
        return None
    values = {}
    for f in fields(Diagnostics):
        vals = [r[f.name] for r in got if r.get(f.name) is not None]
        values[f.name] = round(statistics.fmean(vals), 6) if vals else None
    return Diagnostics(**values)


def correlations(results: Sequence[Result]) -> list[Correlation]:
    from scipy.stats import spearmanr

    out = []
    for clf in sorted({r.classifier for r in results}):
        for name in DIAGNOSTICS:
            pairs = [(getattr(r.diagnostics, name), r.gap_to_gold.points.mean) for r in results
                     if r.classifier == clf and r.diagnostics and r.gap_to_gold
                     and getattr(r.diagnostics, name) is not None]
            rho = p = None
            note = None
            if len(pairs) < 3:
                note = f"{len(pairs)} rows: too few to rank"
            elif len({x for x, _ in pairs}) < 2 or len({y for _, y in pairs}) < 2:
                note = "no variation to rank"
            else:
                res = spearmanr([x for x, _ in pairs], [y for _, y in pairs])
                rho, p = float(res.statistic), float(res.pvalue)
                if math.isnan(rho):
                    rho = p = None
                    note = "undefined (ties)"
                else:
                    rho, p = round(rho, 4), round(p, 4)
            out.append(Correlation(diagnostic=name, classifier=clf, rho=rho, p_value=p, n=len(pairs), note=note))
    return out
