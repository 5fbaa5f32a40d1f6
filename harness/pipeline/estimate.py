"""The bill before the run: per phase, the LLM calls, tokens and fine-tunings a plan needs, and the
time they take at the rates this machine measured doing real work (kept in the cache by every run),
or at a built-in rate per device kind where nothing was measured yet, said as such.

A plan is easy to mistype into years of compute (`--per-class 10000000`); `refusal` names a plan
above the thresholds, which `bench run` refuses unless `--yes` says it is meant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.contracts import Classifier
from harness.kits.engines.identity import device_kind
from harness.pipeline.plan import GOLD, Plan
from harness.pipeline.work import bounded_work, most_generation_calls, synthetic_per_class, training_size
from harness.registry.discovery import Registry

PHASES = ("label summaries", "generation", "revision", "evaluation")
#: a plan above either is refused without --yes
MAX_LLM_CALLS = 1_000_000
MAX_SECONDS = 7 * 24 * 3600

Rates = Mapping[tuple[str, str, str], tuple[float, float, int]]  # Store.rates()


@dataclass
class Phase:
    """One phase's share of the bill: `seconds` for the parts with a rate, `unpriced` the rest."""

    name: str
    llm_calls: int = 0  # expected
    llm_calls_at_most: int = 0
    completion_tokens: int = 0  # at most: every sample runs to max_new_tokens
    fine_tunings: int = 0
    seconds: float = 0.0
    unpriced: list[str] = field(default_factory=list)  # "vllm:X on cuda": work with no rate
    rates: dict[str, str] = field(default_factory=dict)  # what priced it: "<model> on cpu" -> "measured ..."

    def add(self, seconds: float | None, what: str) -> None:
        if seconds is None:
            self.unpriced += [what] if what not in self.unpriced else []
        else:
            self.seconds += seconds


@dataclass
class Estimate:
    phases: list[Phase]

    @property
    def llm_calls(self) -> int:
        return sum(p.llm_calls for p in self.phases)

    @property
    def seconds(self) -> float:
        """The priced part: a lower bound where something is unpriced."""
        return sum(p.seconds for p in self.phases)

    @property
    def unpriced(self) -> list[str]:
        return list(dict.fromkeys(u for p in self.phases for u in p.unpriced))

    def as_dict(self) -> dict[str, Any]:
        return {
            "phases": [{"phase": p.name, "llm_calls": p.llm_calls, "llm_calls_at_most": p.llm_calls_at_most,
                        "completion_tokens_at_most": p.completion_tokens,
                        "fine_tunings": p.fine_tunings,
                        "seconds": round(p.seconds, 1), "unpriced": p.unpriced, "rates": p.rates}
                       for p in self.phases],
            "llm_calls": self.llm_calls,
            "seconds": round(self.seconds, 1),
            "unpriced": self.unpriced,
        }

    def lines(self) -> list[str]:
        """The bill as the dry run prints it, first."""
        out = ["estimate (tokens are upper bounds: every sample at max_new_tokens; time at the rates below):"]
        width = max(len(p.name) for p in self.phases)
        for p in self.phases:
            most = f" (at most {p.llm_calls_at_most:,})" if p.llm_calls_at_most > p.llm_calls else ""
            work = [f"{p.llm_calls:,} LLM calls{most}", f"at most {p.completion_tokens:,} tokens"] if p.llm_calls else []
            work += [f"{p.fine_tunings:,} fits"] if p.fine_tunings else []
            if not work:
                continue
            out.append(f"  {p.name:<{width}}  {', '.join(work)}; {duration(p.seconds, p.unpriced)}")
        out.append(f"  {'total':<{width}}  {self.llm_calls:,} LLM calls; {duration(self.seconds, self.unpriced)}")
        rates = {k: v for p in self.phases for k, v in p.rates.items()}
        out += [f"  rate {k}: {v}" for k, v in rates.items()]
        return out


def duration(seconds: float, unpriced: list[str] | None = None) -> str:
    text = f"about {seconds:.0f} s"
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"about {seconds / size:,.1f} {unit}"
            break
    if unpriced:
        what = unpriced[0] if len(unpriced) == 1 else f"{len(unpriced)} engines or classifiers"
        text = (f"at least {text.removeprefix('about ')}" if seconds else "time unknown") + f" (no rate for {what})"
    return text


def refusal(est: Estimate) -> str | None:
    """Why a plan is too large to start without being asked twice, or None."""
    too = []
    if est.llm_calls > MAX_LLM_CALLS:
        too.append(f"about {est.llm_calls:,} LLM calls (more than {MAX_LLM_CALLS:,})")
    if est.seconds > MAX_SECONDS:
        too.append(f"{duration(est.seconds)} of engine and classifier time (more than a week)")
    if not too:
        return None
    return (f"the plan needs {' and '.join(too)}; check --per-class, --seeds and the grid with `bench run --dry-run`, "
            "or pass --yes to run it anyway")


def _engine_rate(model: str, device: str, rates: Rates, built_in: Mapping[str, float]) -> tuple[float | None, str]:
    """Measured here, else the model plugin's built-in rate (`ModelSpec.rates`), else none: another
    model's speed is no multiple of one anyone could state (batching, kernels and memory decide it)."""
    if (got := rates.get(("engine", model, device))) and got[1] > 0:
        return got[0] / got[1], f"measured here, {got[0] / got[1]:,.1f} tokens/s over {got[0]:,.0f} tokens"
    if device in built_in:
        return built_in[device], (f"built-in {built_in[device]:,.1f} tokens/s (benchmarks/README.md; "
                                  "nothing measured here yet)")
    return None, "none yet: a small suite with this model measures it (bench run --per-class 2 --seeds 1)"


def _classifier_rate(clf: Classifier, name: str, device: str, rates: Rates) -> tuple[float | None, str]:
    """Measured here under `name` (its `rate_name`), else the classifier's built-in rate for its
    default setting (`Classifier.rates`), else none."""
    if (got := rates.get(("classifier", name, device))) and got[0] > 0:
        return got[1] / got[0], f"measured here, {1000 * got[1] / got[0]:,.1f} s per 1,000 training examples per fit"
    if device in clf.rates:
        rate = clf.rates[device]
        which = "" if clf.name == name else f" for {clf.name}'s defaults, not measured for these options"
        return rate, f"built-in {1000 * rate:,.1f} s per 1,000 training examples per fit{which} (nothing measured here yet)"
    return None, "none yet: one small run with this classifier measures it"


def estimate(plan: Plan, reg: Registry, rates: Rates, device: str = "cpu") -> Estimate:
    """The bill of `plan` at `rates`; `device` is where classifiers and engines without a `device`
    option run (the run's torch device)."""
    suite = plan.suite
    phases = {name: Phase(name) for name in PHASES}
    summarized: set[tuple[str, str]] = set()

    def engine_time(phase: Phase, model: str, tokens: int) -> None:
        where = device_kind(str(suite.model_options.get(model, {}).get("device") or device))
        rate, how = _engine_rate(model, where, rates, reg.model(model)[0].rates)
        phase.rates[f"{model} on {where}"] = how
        phase.add(tokens / rate if rate else None, f"{model} on {where}")

    for cell in plan.gen_cells:
        task = reg.task(cell.task)
        options = plan.strategy_options.get(cell.strategy) or {}
        work = bounded_work(reg.strategy(cell.strategy), task, suite)
        sampling = suite.sampling_for(cell.model)
        for name, calls in work.items():
            if not calls:
                continue
            # each label is asked at most budget() times: the bound on what generation can cost,
            # whatever share of a model's lines the parser accepts (the expected calls assume most)
            most = most_generation_calls(task, suite) if name == "generation" else calls
            model, tokens = cell.model, most * suite.samples_per_request * sampling.max_new_tokens
            if name == "label summaries":
                model = plan.summarizer(cell.strategy, cell.model)
                if (cell.task, model) in summarized:  # written once per task and model, for every cell
                    continue
                summarized.add((cell.task, model))
                tokens = calls * suite.sampling_for(model).max_new_tokens
            elif name == "revision":
                tokens = calls * int(options.get("revision_max_new_tokens") or suite.revision_max_new_tokens)
            phase = phases.setdefault(name, Phase(name))
            phase.llm_calls += calls
            phase.llm_calls_at_most += most
            phase.completion_tokens += tokens
            engine_time(phase, model, tokens)

    evaluation = phases["evaluation"]
    gold_counts: dict[tuple[str, str], dict[str, int]] = {}

    def counts(task: str, language: str) -> dict[str, int]:
        """Examples per class in the gold train split (read once; the plan has read it already)."""
        if (task, language) not in gold_counts:
            gold_counts[(task, language)] = dict(Counter(e.label for e in reg.task(task).load(language, "train")))
        return gold_counts[(task, language)]

    for cell in plan.eval_cells:
        clf = reg.classifier(cell.classifier)
        fits = 1 if getattr(clf, "deterministic", False) else len(suite.seeds)
        labels = reg.task(cell.task).labels
        if cell.source == GOLD:  # what the gold split can fill
            examples = training_size(labels, suite.per_class, counts(cell.task, cell.language))
        else:  # what generation can yield, capped at the gold sizes when the suite matches them
            matched = suite.match_gold_size and not reg.task(cell.task).unavailable(cell.language, "train")
            examples = training_size(labels, synthetic_per_class(suite),
                                     counts(cell.task, cell.language) if matched else None)
        name = clf.rate_name(suite.classifier_options.get(cell.classifier, {}))
        rate, how = _classifier_rate(clf, name, device_kind(device), rates)
        evaluation.rates[f"{name} on {device_kind(device)}"] = how
        evaluation.fine_tunings += fits
        evaluation.add(fits * examples * rate if rate is not None else None, f"{name} on {device_kind(device)}")
    return Estimate(list(phases.values()))
