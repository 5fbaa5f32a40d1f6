"""Executes a plan: generation cells grouped per model (one engine load each), then evaluation
cells, each result written atomically to the run directory, then the leaderboard."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config.datadir import record as data_dir_record
from harness.contracts import Classifier, ClassifierContext, Example, Fit, GenerationContext, GenerationEngine
from harness.errors import BenchError
from harness.kits.embeddings import e5_embeddings
from harness.kits.engines.identity import device_kind
from harness.pipeline import checks, seeds
from harness.pipeline.diagnostics import diagnose
from harness.pipeline.models import ModelPool, ModelSession
from harness.pipeline.plan import GOLD, EvalCell, GenCell, Plan
from harness.pipeline.progress import Reporter
from harness.records import (
    ClassCount,
    Diagnostics,
    EvaluationCost,
    Floor,
    GenerationRecord,
    Prediction,
    RevisionShare,
    ScoresRecord,
    SeedScores,
    UsageLine,
    strategy_stats,
)
from harness.registry.discovery import Registry
from harness.results.metrics import scores
from harness.store.cache import CachedEngine, Store
from harness.store.rundir import RunDir, write_json
from harness.tracking import evaluation_record, generation_record


def first_per_class(examples: Sequence[Example], caps: Mapping[str, int]) -> list[Example]:
    """The first `caps[label]` examples of each label, in order (a label without a cap gets none)."""
    taken: Counter[str] = Counter()
    out = []
    for ex in examples:
        if taken[ex.label] < caps.get(ex.label, 0):
            taken[ex.label] += 1
            out.append(ex)
    return out


def gold_subset(train: Sequence[Example], labels: Sequence[str], per_class: int) -> tuple[list[Example], dict[str, int]]:
    """The first `per_class` examples of each label in the dataset's original order (the paper's
    gold baseline); a class with fewer gives what it has, and the counts say so."""
    out = first_per_class(train, dict.fromkeys(labels, per_class))
    counts = Counter(ex.label for ex in out)
    return out, {lab: counts[lab] for lab in labels}


def random_gold_subset(train: Sequence[Example], labels: Sequence[str], per_class: int,
                       seed: int) -> tuple[list[Example], dict[str, int]]:
    """A seeded random `per_class` examples of each label (fewer where a class has fewer), kept in
    dataset order. Each label has its own generator, so one class's size never shifts another's draw.
    Drawn afresh per replicate, it lets the interval cover which gold examples happened to be first."""
    by_label: dict[str, list[int]] = {lab: [] for lab in labels}
    for i, ex in enumerate(train):
        if ex.label in by_label:
            by_label[ex.label].append(i)
    chosen: set[int] = set()
    for lab in labels:
        rng = random.Random(seeds.gold_label_seed(seed, lab))
        chosen.update(rng.sample(by_label[lab], min(per_class, len(by_label[lab]))))
    out = [ex for i, ex in enumerate(train) if i in chosen]
    counts = Counter(ex.label for ex in out)
    return out, {lab: counts[lab] for lab in labels}


class Runner:
    """Runs a plan into a run directory. Cell work is split into `generation_payloads` and
    `evaluation_payload`, which compute, and `save_*`, which write: the local executor does both in
    one process, the Ray executor computes on workers and writes in the driver. `on_saved` is told of
    each cell as it is written (`harness.tracking`'s cell records): whichever executor computed it,
    the writing happens here."""

    def __init__(self, plan: Plan, reg: Registry, out: str | Path, store: Store, reporter: Reporter,
                 device: str = "cpu", load_engine: Callable[[str], CachedEngine] | None = None, log_samples: bool = False,
                 on_saved: Callable[[dict[str, Any]], None] | None = None):
        self.plan = plan
        self.reg = reg
        self.run = RunDir(out)
        self.store = store
        self.rep = reporter
        self.device = device
        self._load_engine = load_engine or self._load
        self._tests: dict[tuple[str, str], list[Example]] = {}
        self.log_samples = log_samples  # per-example predictions, as lm-eval's --log_samples
        #: the data diagnostics read the shared embeddings: computed where a classifier of the run
        #: declares them worth it (`Classifier.diagnoses`), not in a quick run of cheap classifiers
        self.diagnose = any(reg.classifier(name).diagnoses for name in plan.suite.classifiers)
        self._diagnosed: dict[str, Diagnostics] = {}  # generation cell id -> its diagnostics
        self.on_saved = on_saved

    # -- engines -------------------------------------------------------------------------------
    def _load(self, model: str) -> CachedEngine:
        spec, arg = self.reg.model(model)
        options = self.plan.suite.model_options.get(model, {})
        self.rep.log(f"loading model {model}")
        engine = spec.load(arg, options)
        return CachedEngine(engine, self.store, model)

    # -- the run -------------------------------------------------------------------------------
    def run_pending(self, executor: Callable[[Runner, list[GenCell], list[EvalCell]], None]) -> None:
        """Open the run directory and have `executor` (harness/executors) compute and save every
        pending cell; the leaderboard is the orchestrator's (harness/pipeline/run.py)."""
        plan = self.plan
        self.run.open(plan.suite.settings(), plan.settings_hash, {
            "harness_version": __version__, "suite": plan.suite.name, "source": plan.suite.source,
            "plan_hash": plan.plan_hash, "shard": None if plan.shard is None else list(plan.shard),
            "suite_config": plan.suite.to_dict(), "provenance": plan.provenance, "data_dir": data_dir_record(plan.data_dir),
        })
        write_json(self.run.plan, plan.as_dict())
        for u in plan.unavailable:
            self.rep.log(f"unavailable: {u.task}/{u.language} {u.strategy} {u.model}: {u.reason}")
        pending_gen = [c for c in plan.gen_cells if not self.run.done(self.run.generation(c.id))]
        pending_eval = [c for c in plan.eval_cells if not self.run.done(self.run.scores(c.id))]
        skipped = len(plan.gen_cells) - len(pending_gen) + len(plan.eval_cells) - len(pending_eval)
        if skipped:
            self.rep.log(f"resuming: {skipped} finished cells kept")
        self.rep.overall("cells", len(pending_gen) + len(pending_eval))
        executor(self, pending_gen, pending_eval)

    # -- generation ----------------------------------------------------------------------------
    def prepare(self, cells: list[GenCell]) -> None:
        """Each strategy's work shared by the cells of a task (a recipe's label summaries), before any
        generator is loaded, with the context of the task's first cell; the models it calls are
        released before generation starts, so a summarizer never has to fit beside a generator."""
        if not cells:
            return
        pool = self._pool()
        try:
            firsts = {(c.task, c.strategy): c for c in reversed(cells)}
            for (_, strategy), cell in firsts.items():
                self.reg.strategy(strategy).prepare(self._context(cell, pool.engine(cell.model), pool, shared_only=True))
        finally:
            pool.close()

    def generation_payloads(self, model: str, cells: list[GenCell]) -> Iterator[tuple[GenCell, GenerationRecord]]:
        """Generate the cells of one model with one engine load, yielding each result when done."""
        session = self.open_model(model)
        try:
            for cell in cells:
                yield cell, session.generate(cell)
        finally:
            session.close()

    def open_model(self, model: str) -> ModelSession:
        """Load `model` once for any number of cells, in any order (a Ray replica is sent cells one
        at a time; each cell's output depends only on the cell, never on what the engine ran before)."""
        engine = self._load_engine(model)
        return ModelSession(engine, self._pool(model, engine), self._generate_cell)

    def _pool(self, own: str = "", engine: CachedEngine | None = None) -> ModelPool:
        """The models a strategy may call: `own` as `engine` is, any other loaded on first use."""
        return ModelPool(self._load_engine, self.reg.model, self.plan.suite.sampling_for, own, engine)

    def _context(self, cell: GenCell, engine: GenerationEngine, models: ModelPool,
                 shared_only: bool = False) -> GenerationContext:
        suite = self.plan.suite
        return GenerationContext(
            task=self.reg.task(cell.task), language=self.plan.languages[(cell.task, cell.language)], engine=engine,
            per_class=suite.per_class, replicate=cell.replicate,
            seed=seeds.sampling_seed(suite.seed, cell.task, cell.language, cell.strategy, cell.model, cell.replicate),
            run_seed=suite.seed, sampling=suite.sampling_for(cell.model),
            calls_per_class=suite.budget(), samples_per_request=suite.samples_per_request,
            artifacts=self.run.artifacts(None if shared_only else cell.id), models=models,
            options=self._strategy_options(cell.strategy), log=self.rep.log, progress=self.rep.cell_progress,
        )

    def _strategy_options(self, strategy: str) -> dict[str, Any]:
        """The options the plan resolved for the strategy."""
        return self.plan.strategy_options[strategy]

    def _generate_cell(self, cell: GenCell, engine: CachedEngine, models: ModelPool) -> GenerationRecord:
        suite = self.plan.suite
        task = self.reg.task(cell.task)
        strategy = self.reg.strategy(cell.strategy)
        self.rep.cell(f"generate {cell.task}/{cell.language} {cell.strategy} [{cell.model}]",
                      suite.per_class * len(task.labels))
        earlier = self.run.earlier_attempts(cell.id)
        attempt = uuid.uuid4().hex[:12]
        before, revised_before = engine.counters(), engine.counters("cell/revision")
        start = time.perf_counter()

        def record(calls: int, seconds: float) -> None:
            self.run.add_usage(cell.id, UsageLine(attempt, calls, round(seconds, 3),
                                                  round(time.perf_counter() - start, 3)))

        engine.on_engine_batch = record
        try:
            result = strategy.generate(self._context(cell, engine, models))
            checks.examples(result.examples, task.labels, cell.strategy)
        finally:
            engine.on_engine_batch = None
        after = engine.counters()
        stats = strategy_stats(result.stats)
        # what the cell asked for is the same however it ran; what reached the engine and the time it
        # took add up over the attempts of a cell that was interrupted and resumed
        stats.llm_calls = int(after["llm_calls"] - before["llm_calls"])
        stats.prompt_tokens = int(after["prompt_tokens"] - before["prompt_tokens"])
        stats.completion_tokens = int(after["completion_tokens"] - before["completion_tokens"])
        stats.engine_calls = int(after["engine_calls"] - before["engine_calls"]) + earlier.engine_calls
        stats.engine_seconds = round(after["engine_seconds"] - before["engine_seconds"] + earlier.engine_seconds, 3)
        stats.seconds = round(time.perf_counter() - start + earlier.elapsed, 3)
        stats.attempts = earlier.attempts + 1
        revised = engine.counters("cell/revision")
        if revised["llm_calls"] > revised_before["llm_calls"]:  # its share of the numbers above (time: this attempt's)
            stats.revision = RevisionShare(**{k: round(revised[k] - revised_before[k], 3) for k in
                                              ("llm_calls", "prompt_tokens", "completion_tokens", "engine_seconds")})
        if engine.identity:  # what generated: backend, version, dtype, device kind, weights
            stats.model_identity = engine.identity
        if stats.requested is None:
            stats.requested = suite.per_class * len(task.labels)
        if stats.accepted is None:
            stats.accepted = len(result.examples)
        stats.rejected = stats.rejected or 0
        stats.duplicates = stats.duplicates or 0
        if stats.per_class is None:
            stats.per_class = {lab: ClassCount(suite.per_class, sum(e.label == lab for e in result.examples))
                               for lab in task.labels}
        return GenerationRecord(True, cell.config, cell.id, [Example(e.text, e.label) for e in result.examples], stats)

    def save_generation(self, cell: GenCell, payload: GenerationRecord) -> None:
        self.run.write_generation(payload)
        stats = payload.stats
        short = {k: v.requested - v.accepted for k, v in (stats.per_class or {}).items() if v.accepted < v.requested}
        self.rep.log(f"generated {cell.id}: {stats.accepted}/{stats.requested} accepted, "
                     f"{stats.llm_calls} LLM calls ({stats.engine_calls} uncached), {stats.seconds:.1f}s"
                     + (f"; short: {short}" if short else ""))
        self.rep.advance()
        if self.on_saved is not None:
            self.on_saved(generation_record(cell, payload))

    # -- evaluation ----------------------------------------------------------------------------
    def _fit_seeds(self, cell: EvalCell, clf: Classifier, train: list[Example], test: list[Example],
                   labels: list[str]) -> tuple[list[SeedScores], list[Prediction]]:
        """One fit per seed (one in all for a deterministic classifier), each scored on the test set,
        and the predictions when they are logged."""
        suite = self.plan.suite
        texts = [e.text for e in test]
        options = suite.classifier_options.get(cell.classifier, {})
        per_seed: list[SeedScores] = []
        predictions: list[Prediction] = []
        fits = self._fits(cell, clf, train, texts, labels, options)
        for seed, fit in zip(suite.seeds, fits):
            pred = fit.predictions
            got = scores([e.label for e in test], pred, labels)
            if self.log_samples:
                predictions += [Prediction(seed, j, e.text, e.label, p) for j, (e, p) in enumerate(zip(test, pred))]
            per_seed.append(SeedScores(seed, got["macro_f1"], got["accuracy"], fit=dict(fit.details) or None))
        return per_seed, predictions

    def _fits(self, cell: EvalCell, clf: Classifier, train: list[Example], texts: list[str], labels: list[str],
              options: dict) -> list[Fit]:
        """A fit per seed: one call with every seed for a classifier that takes them together, one fit
        in all for a deterministic one, else one call per seed. Each call's time goes into the cache's
        rates, per training example and fit."""
        all_seeds = list(self.plan.suite.seeds)

        def timed(chosen: list[int], fit_all: Callable[[list[ClassifierContext]], Sequence[Any]]) -> list[Fit]:
            ctxs = [ClassifierContext(seed=seeds.classifier_seed(s, cell.task, cell.language, cell.replicate),
                                      cache=self.store, device=self.device, options=options, log=self.rep.log,
                                      embedder=e5_embeddings)
                    for s in chosen]
            started = time.perf_counter()
            got = list(fit_all(ctxs))
            self.store.add_rate("classifier", clf.rate_name(options), device_kind(self.device), len(train) * len(chosen),
                                time.perf_counter() - started, count=len(chosen))
            if len(got) != len(chosen):
                raise BenchError(f"classifier {cell.classifier!r} returned {len(got)} fits for {len(chosen)} seeds")
            return [checks.predictions(g, len(texts), labels, cell.classifier) for g in got]

        def one(ctxs: list[ClassifierContext]) -> list:
            return [clf.fit_predict(train, texts, labels, ctxs[0])]

        if clf.deterministic:  # the one fit stands for every seed; each seed's row says so
            fit = timed(all_seeds[:1], one)[0]
            fits = [Fit(fit.predictions, {**fit.details, "fitted_once": "deterministic classifier"})] * len(all_seeds)
        elif clf.fits_seeds_together:
            fits = timed(all_seeds, lambda ctxs: clf.fit_predict_seeds(train, texts, labels, ctxs))
        else:
            fits = []
            for i, s in enumerate(all_seeds):
                fits += timed([s], one)
                self.rep.cell_progress(i + 1, len(all_seeds))
            return fits
        self.rep.cell_progress(len(all_seeds), len(all_seeds))
        return fits

    def evaluation_payload(self, cell: EvalCell, generation: GenerationRecord | None = None) -> ScoresRecord:
        """Train and score one evaluation cell over all seeds. `generation` is the source cell's
        result when the caller has it in memory (the executors hand what they just generated);
        otherwise, for a cell generated by an earlier invocation, it is read from the run directory."""
        suite = self.plan.suite
        task = self.reg.task(cell.task)
        key = (cell.task, cell.language)
        if key not in self._tests:
            self._tests[key] = task.load(cell.language, "test")
        test = self._tests[key]
        note = ""
        if cell.source == GOLD:
            train, per_class = self._gold_train(cell)
            short = {k: v for k, v in per_class.items() if v < suite.per_class}
            if short:
                note = f"gold classes with fewer than {suite.per_class} examples: {short}"
        else:
            gen = generation if generation is not None else self.run.read_generation(cell.source)
            train = list(gen.examples)
            if suite.match_gold_size and not task.unavailable(cell.language, "train"):
                _, gold_counts = gold_subset(task.load(cell.language, "train"), task.labels, suite.per_class)
                capped = first_per_class(train, gold_counts)
                if len(capped) < len(train):
                    note = f"synthetic classes capped at their gold sizes: {len(train)} -> {len(capped)} examples"
                train = capped
            per_class = dict(Counter(e.label for e in train))
        clf = self.reg.classifier(cell.classifier)
        self.rep.cell(f"evaluate {cell.task}/{cell.language} {cell.strategy} {cell.model} [{cell.classifier}]",
                      len(suite.seeds))
        per_seed: list[SeedScores] = []
        predictions: list[Prediction] = []
        floor = None
        if len({e.label for e in train}) < 2:
            note = "fewer than two classes in the training data: not scored; summaries count it at the majority-class floor"
            # what any classifier trained on it predicts: its one class (or, with no data, a fixed one)
            constant = train[0].label if train else task.labels[0]
            floor = Floor(**scores([e.label for e in test], [constant] * len(test), task.labels))
        started = time.perf_counter()
        if floor is None:
            per_seed, predictions = self._fit_seeds(cell, clf, train, test, task.labels)
        out = ScoresRecord(True, cell.config, cell.id, len(train), per_class, per_seed, note, floor=floor)
        if per_seed:  # what the fits cost, for the manifest's bill
            out.cost = EvaluationCost(1 if clf.deterministic else len(per_seed), device_kind(self.device),
                                      round(time.perf_counter() - started, 3))
        if self.diagnose and cell.source != GOLD and train and not task.unavailable(cell.language, "train"):
            if cell.source not in self._diagnosed:  # the same for every classifier trained on that generation
                self._diagnosed[cell.source] = self._diagnostics(cell, train, test)
            out.diagnostics = self._diagnosed[cell.source]
        if self.log_samples:
            out.predictions = predictions  # written beside the scores by save_scores, not inside them
        return out

    def _gold_train(self, cell: EvalCell) -> tuple[list[Example], dict[str, int]]:
        """The gold subset of a cell's task, language and replicate: the first N per class, or a
        seeded random N per replicate."""
        suite, task = self.plan.suite, self.reg.task(cell.task)
        if suite.gold == "random":
            seed = seeds.gold_subset_seed(suite.seed, cell.task, cell.language, cell.replicate)
            return random_gold_subset(task.load(cell.language, "train"), task.labels, suite.per_class, seed)
        return gold_subset(task.load(cell.language, "train"), task.labels, suite.per_class)

    def _diagnostics(self, cell: EvalCell, train: list[Example], test: list[Example]) -> Diagnostics:
        """What may explain the cell's score (harness/pipeline/diagnostics.py), from the shared e5
        embeddings; label fidelity by the classifier that declares it reads it, trained on the gold
        subset of the same seeds."""
        gold, _ = self._gold_train(cell)
        labels = list(self.reg.task(cell.task).labels)
        reader = next((c for c in self.reg.classifiers.values() if c.reads_label_fidelity), None)

        def fit_predict(data: Sequence[Example], texts: Sequence[str], seed: int) -> list[str]:
            ctx = ClassifierContext(seed=seeds.classifier_seed(seed, cell.task, cell.language, cell.replicate),
                                    cache=self.store, device=self.device, log=self.rep.log, embedder=e5_embeddings)
            return checks.predictions(reader.fit_predict(data, texts, labels, ctx), len(texts), labels,
                                      reader.name).predictions

        try:
            return Diagnostics.from_json(diagnose(train, gold, test, self.plan.suite.seeds, lambda texts: e5_embeddings(texts, self.store),
                            fit_predict if reader is not None else None))
        except BenchError as exc:  # the e5 encoder is not installed: the scores stand without diagnostics
            self.rep.log(f"no diagnostics for {cell.id}: {exc}")
            return Diagnostics()

    def save_scores(self, cell: EvalCell, payload: ScoresRecord) -> None:
        self.run.write_scores(payload)
        per_seed = payload.per_seed
        if per_seed:
            mean = sum(r.macro_f1 for r in per_seed) / len(per_seed)
            self.rep.log(f"scored {cell.id}: macro-F1 {mean:.3f} over {len(per_seed)} seeds (train {payload.train_size})")
        else:
            self.rep.log(f"scored {cell.id}: {payload.note}")
        self.rep.advance()
        if self.on_saved is not None:
            self.on_saved(evaluation_record(cell, payload))

