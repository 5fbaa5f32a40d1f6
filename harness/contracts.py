"""The contracts every plugin implements: tasks, strategies, model engines and classifiers.

Plugins hand the harness objects that satisfy these interfaces through the hooks in
`harness.hookspecs`. They are kept small on purpose: the harness owns planning, caching, seeds,
scoring and results, so a plugin only has to say what is specific to it.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from harness.records import CellSaved, Example, GenerationStats

if TYPE_CHECKING:
    from harness.results.model import Leaderboard

Split = Literal["train", "test"]


@dataclass(frozen=True)
class Language:
    """One language of a task, with every code a user may type for it.

    - `code`: the short code of cell ids and `--languages` filters (`"sw"`).
    - `name`: its English name, written into prompts (`"Swahili"`).
    - `iso`: ISO 639-3 + script (`"swh_Latn"`), as MTEB reports languages: the leaderboard records
      it and the language check reads the script from it.
    - `tier`: `"high"` (mid/high resource) or `"low"` (the default), the groups of the per-tier
      summaries, as in the paper.
    - `dataset_code`: the dataset's own code for it, `""` where there is none (a MASSIVE locale
      `"sw-KE"`, a FLORES code `"swh_Latn"`); SIB-200 reads a language's files under it, and a
      language added to SIB-200 without it uses `iso`.

    Each of them, and the ISO 639-3 code alone (`"swh"`), selects the language on the command line.

        Language("sw", "Swahili", "swh_Latn", "low", "sw-KE")
        Language("gsw", "Swiss German", "gsw_Latn")  # tier "low", no dataset code
    """

    code: str  # short code used in cell ids and filters ("sw")
    name: str  # English name used in prompts ("Swahili")
    iso: str  # ISO 639-3 + script ("swh_Latn"), as MTEB reports languages
    tier: Literal["high", "low"] = "low"  # mid/high- vs low-resource, as in the paper
    dataset_code: str = ""  # the dataset's own code (MASSIVE locale, FLORES code)

    @property
    def script(self) -> str:
        return self.iso.split("_", 1)[1] if "_" in self.iso else ""

    @property
    def aliases(self) -> set[str]:
        codes = {self.code, self.iso, self.iso.split("_", 1)[0], self.name}
        if self.dataset_code:
            codes.add(self.dataset_code)
        return {c for c in codes if c}


class Task(ABC):
    """A labelled text-classification task with gold train/test data per language. `FileTask` and
    `HubTask` read files and hub datasets; a task of its own says which languages it has, which splits
    it cannot load and how it loads one:

        class Headlines(Task):
            name, labels, description = "headlines", ("sport", "politics"), "Topic of news headlines."

            def languages(self):
                return {"yo": Language("yo", "Yoruba", "yor_Latn")}

            def unavailable(self, language, split):
                return None if split == "test" else "no train split"

            def load(self, language, split):
                return [Example(text, label) for text, label in read_headlines(language)]
    """

    name: str
    labels: tuple[str, ...]
    description: str  # English, one sentence: what the texts are and what the labels mean
    text_kind: str = "texts"  # how prompts call one example ("utterances to a voice assistant")
    label_summaries: Mapping[str, str] | None = None  # fixed summaries; None: written by an LLM

    @abstractmethod
    def languages(self) -> Mapping[str, Language]:
        """Languages by short code."""

    @abstractmethod
    def unavailable(self, language: str, split: Split) -> str | None:
        """Why a split cannot be loaded for this language, or None when it can."""

    @abstractmethod
    def load(self, language: str, split: Split) -> list[Example]:
        """Gold examples; `train` comes in the dataset's original order (the gold baseline takes
        the first N per class of it, as the paper does)."""

    def add_language(self, language: Language, **options: Any) -> None:
        """Accept a language contributed by another plugin; tasks that cannot say so."""
        raise NotImplementedError(f"task {self.name!r} does not accept extra languages")

    def data_fingerprint(self) -> str:
        """Changes when the data behind the task changes; part of every cell id."""
        return ""

    def data_source(self, language: str) -> str:
        """Where one language's data comes from when a digest of its rows cannot say it (a hub dataset
        and the commit it was read at); recorded in results and part of the language's cell ids. Empty
        for data whose rows are the whole story (files shipped with the harness)."""
        return ""

    def data_location(self, language: str) -> str:
        """Where the data sits on this machine, for results only, never for identity (a local folder,
        relative to the data directory or the working directory): moving the data keeps its cells."""
        return ""

    def licence(self, language: str) -> tuple[str, str]:
        """(hub licence id, words) of the gold data one language comes from: synthetic data made from
        a task's demonstrations and label set is exported under the terms of the data it imitates."""
        return "other", f"task {self.name!r}: not known here; see the task plugin's data source"


@dataclass(frozen=True)
class SamplingParams:
    """How an engine decodes: a suite's `[sampling]` table, with a model's `[models."X".sampling]` on
    top. The defaults are the paper's; every value is part of the cache key of a generation.

        SamplingParams(temperature=0.7, max_new_tokens=80)
    """

    temperature: float = 0.4
    top_p: float = 0.9
    repetition_penalty: float = 1.2
    max_new_tokens: int = 512

    def as_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "repetition_penalty": self.repetition_penalty,
            "max_new_tokens": self.max_new_tokens,
        }


@dataclass(frozen=True)
class Message:
    """One turn of a chat prompt (`GenerationRequest.messages`), for engines whose `is_chat` is true.

        Message("user", "Write one Swahili sentence about the weather.")
    """

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt, `n` samples. Chat models get `messages`, base models `prompt`. `seed` makes the
    samples reproducible (derive it from the cell's `ctx.seed`); it is part of the cache key, with
    the prompt and every sampling parameter.

        GenerationRequest(ctx.sampling, ctx.seed + i, n=2, messages=(Message("user", ask),))
    """

    params: SamplingParams
    seed: int
    n: int = 1
    prompt: str | None = None
    messages: tuple[Message, ...] | None = None
    stop: tuple[str, ...] = ()

    def key_payload(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "messages": [[m.role, m.content] for m in self.messages] if self.messages else None,
            "params": self.params.as_dict(),
            "stop": list(self.stop),
        }


@dataclass(frozen=True)
class Completion:
    """One sample an engine generated: its text, the token counts (the bill and the measured rates
    read them) and whether the token limit cut it (`truncated`; None when the engine cannot tell),
    which decides whether a parser may trust the last line.

        Completion("1. je nitahitaji mwavuli leo", prompt_tokens=42, completion_tokens=9, truncated=False)
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: bool | None = None  # stopped by the token limit; None when the engine cannot tell


class Engine(ABC):
    """A loaded generator, as a model plugin gives it. The harness wraps it in a cache
    (`harness.store.cache.CachedEngine`, which refuses an object lacking part of this interface) and
    always calls it with batches; strategies see the wrapper (`GenerationEngine`), never this.
    A base class, not a Protocol: a backend inherits the defaults (no identity, contexts that always
    fit, nothing to free) and `generate` is checked when it is built.

        class Echo(Engine):
            fingerprint, is_chat = "echo@1", False

            def generate(self, requests):
                return [[Completion(request.prompt or "")] * request.n for request in requests]
    """

    #: a readable name for what generates (the cache's `model` column, log lines)
    fingerprint: str
    #: what generates, for the cache key and the results' provenance: backend, backend_version,
    #: dtype, device_kind, quantization, weights (harness/kits/engines/identity.py builds it); an engine
    #: without one is keyed by its fingerprint alone
    identity: dict[str, Any] | None = None
    #: True when prompts must be chat messages (the model has a chat template)
    is_chat: bool
    #: how many sequences one forward batch holds; the harness chunks requests by this
    batch_size: int = 16

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        """One list of `request.n` completions per request, in order."""

    def info(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "identity": self.identity}

    def context_overflow(self, request: GenerationRequest) -> str | None:
        """Why the request's prompt plus its `max_new_tokens` does not fit the model's context, or
        None when it fits. Engines that cannot tell (a remote server) say None: the request is sent."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free the engine's memory."""


@dataclass(frozen=True)
class Option:
    """One option an engine, a classifier or a strategy reads from its suite table (`[models."<name>"]`,
    `[classifiers."<name>"]`, `[strategies."<name>"]`). Declared, so a mistyped name or value fails when
    the plan is built (`--dry-run` included), not minutes later when the model loads."""

    kind: type | tuple[type, ...]
    what: str  # the valid values in words, for the error: "a positive integer"
    minimum: float | None = None
    exclusive: bool = False  # the minimum itself is not allowed (a timeout of 0 s)
    maximum: float | None = None
    exclusive_maximum: bool = False  # the maximum itself is not allowed (a fraction below 1)
    nonempty: bool = False  # a string must not be empty
    default: Any = None  # a strategy's value when neither its table nor the suite's [generation] gives one
    model: bool = False  # the value names a registered model ("" for none): checked when the plan is built
    identity: bool = True  # the value can change an output: part of the identity of the cells it applies to
    choices: tuple[Any, ...] | None = None  # the only values allowed (compared with their type: True is not 1)

    def problem(self, value: Any) -> str | None:
        """Why `value` is not valid for this option, or None."""
        if self.choices is not None:
            ok = any(type(value) is type(c) and value == c for c in self.choices)
            return None if ok else f"must be {self.what}, not {type(value).__name__} {value!r}"
        wrong = not isinstance(value, self.kind) or (isinstance(value, bool) and self.kind is not bool)
        if not wrong and self.minimum is not None:
            wrong = value < self.minimum or (self.exclusive and value == self.minimum)
        if not wrong and self.maximum is not None:
            wrong = value > self.maximum or (self.exclusive_maximum and value == self.maximum)
        if not wrong and self.nonempty:
            wrong = value == ""
        return None if not wrong else f"must be {self.what}, not {type(value).__name__} {value!r}"


@dataclass(frozen=True)
class ModelSpec:
    """A registered model name. With `prefix=True` the name is a scheme: `hf` serves `hf:<id>`.

    `options` declares what the engine reads from its suite table (None: undeclared, nothing is
    checked beyond the common types); `check` validates the argument without loading anything (a
    server address, say) and raises BenchError with what to write instead.

        ModelSpec("my-gemma", lambda arg, options: TransformersEngine("/models/my-gemma", options),
                  "my fine-tuned Gemma", options={"batch_size": COMMON_OPTIONS["batch_size"]})
    """

    name: str
    load: Callable[[str, Mapping[str, Any]], Engine]  # (argument after the scheme or the name, options)
    description: str = ""
    prefix: bool = False
    options: Mapping[str, Option] | None = None
    check: Callable[[str], None] | None = None
    #: completion tokens per second per device kind ("cpu", "cuda") that the dry run's bill uses
    #: where this machine has measured nothing yet; a kind left out stays unpriced until measured
    rates: Mapping[str, float] = field(default_factory=dict)
    #: (full model name, engine identity or None) -> (hub licence id or None, words): the terms that
    #: bind what the model generates, written on an exported dataset's card; None: not known here
    terms: Callable[[str, Any], tuple[str | None, str] | None] | None = None


class Artifacts(Protocol):
    """A strategy's files in the run directory, written by the run directory (atomically) so that a
    killed run never leaves half a file: its own per cell (`save`/`load`: candidates, verdicts) and
    those every cell of the run shares (`save_shared`/`load_shared`, kind "summaries" or "demos")."""

    def save(self, name: str, data: Any) -> Path: ...

    def load(self, name: str) -> Any | None: ...

    def save_shared(self, kind: str, name: str, data: Any) -> Path: ...

    def load_shared(self, kind: str, name: str) -> Any | None: ...


class GenerationEngine(Protocol):
    """What a strategy may call on its engine (`ctx.engine`, `ctx.models.engine(name)`): a model
    engine with the cache in front (`harness.store.cache.CachedEngine`), the same object in a run, on
    a Ray worker and under `harness.api.standalone_context`, so a strategy's own tests bill as a run does.

        with ctx.engine.phase("revision"):  # counted in the cell's statistics, and as revision's share
            replies = ctx.engine.generate(requests)

    A Protocol, not a base class: the harness gives it and strategies only call it, so stand-ins (a
    model loaded on first use) satisfy it without inheriting; `GenerationContext` checks it is complete."""

    #: the registered model name (summary files, rates, log lines)
    name: str
    #: True when prompts must be chat messages (the model has a chat template)
    is_chat: bool
    #: what generates (backend, dtype, device kind, weights), None for an engine that cannot say
    identity: dict[str, Any] | None

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        """One list of `request.n` completions per request, in order, each batch cached."""
        ...

    def context_overflow(self, request: GenerationRequest) -> str | None:
        """Why the request does not fit the model's context, or None (it fits, or nobody can tell)."""
        ...

    def phase(self, name: str) -> AbstractContextManager[None]:
        """Count what is generated inside the block also under `<account>/<name>` (its share of the cost)."""
        ...

    def account(self, name: str) -> AbstractContextManager[None]:
        """Count what is generated inside the block under `name` ("shared": work several cells share)."""
        ...

    def counters(self, account: str = "cell") -> dict[str, float]:
        """llm_calls, engine_calls, prompt_tokens, completion_tokens, engine_seconds of one account."""
        ...


class EmbeddingStore(Protocol):
    """What a classifier may use of the run's cache (`ClassifierContext.cache`): text embeddings by
    encoder name, and `path`, the cache file, beside which converted models may be kept."""

    path: Path

    def get_embeddings(self, encoder: str, texts: Sequence[str]) -> dict[str, Any]:
        """The stored vector (a float32 numpy row) of each of `texts` the cache holds, by text."""
        ...

    def put_embeddings(self, encoder: str, texts: Sequence[str], vectors: Any) -> None:
        """Store one vector per text."""
        ...


def missing_members(obj: Any, interface: type) -> list[str]:
    """The attributes and methods of `interface` (a Protocol or an ABC) that `obj` lacks, found
    without calling anything on it (a property that would load a model is not run)."""
    names = set(getattr(interface, "__annotations__", {}))
    for klass in interface.__mro__:
        if klass in (object, Protocol, ABC) or klass.__name__ == "Generic":
            continue
        names |= set(getattr(klass, "__annotations__", {}))
        names |= {n for n, v in vars(klass).items() if callable(v) and not n.startswith("_")}
    missing = []
    for name in sorted(names):
        try:
            inspect.getattr_static(obj, name)
        except AttributeError:
            missing.append(name)
    return missing


def require(obj: Any, interface: type, what: str) -> None:
    """Refuse `obj` where `what` must be an `interface`, naming what it lacks."""
    missing = missing_members(obj, interface)
    if missing:
        raise TypeError(f"{what} must be a {interface.__name__}: {type(obj).__name__} has no "
                        f"{', '.join(missing)}")


class Models(Protocol):
    """The other models of the registry a strategy may call beside its generator (a recipe's label
    summarizer): each loaded on first use, released by the harness when the cell's model is."""

    def engine(self, name: str) -> GenerationEngine: ...

    def sampling(self, name: str) -> SamplingParams: ...


@dataclass(frozen=True)
class GenerationContext:
    """What every strategy needs for one generation cell, and nothing shaped for one recipe: what
    a strategy of its own wants to be told comes in `options`, from its `[strategies."<name>"]` table.

        replies = ctx.engine.generate([GenerationRequest(ctx.sampling, ctx.seed + i, n=ctx.samples_per_request,
                                                         prompt=f"One {ctx.language.name} sentence about {label}:")
                                       for i, label in enumerate(ctx.task.labels)])
    """

    task: Task
    language: Language
    engine: GenerationEngine  # a model engine with the cache in front
    per_class: int
    seed: int  # sampling seed of this cell: (run seed, task, language, strategy, model, replicate)
    sampling: SamplingParams
    calls_per_class: int  # budget of LLM requests per class, after which the shortfall is recorded
    samples_per_request: int  # completions asked for in one request (`GenerationRequest.n`)
    artifacts: Artifacts
    models: Models
    options: Mapping[str, Any] = field(default_factory=dict)  # the strategy's own, resolved (Strategy.options)
    run_seed: int = 0  # the suite's generation seed: draws every cell of a run shares are seeded by it
    replicate: int = 0  # which independent generation this is: shared draws are made per replicate
    log: Callable[[str], None] = print
    progress: Callable[[int, int], None] = lambda done, total: None  # accepted so far, target

    def __post_init__(self) -> None:
        require(self.engine, GenerationEngine, "GenerationContext.engine")


@dataclass
class GenerationResult:
    """What `Strategy.generate` returns: the accepted examples (the synthetic training set) and its
    statistics, written into the cell's row (`requested` and `accepted` at least; the composed
    strategies add rejections, duplicates, calls and more). `stats` is a `GenerationStats`
    (harness.records), or a mapping of its keys, where a key it does not declare is the strategy's own
    statistic, kept beside the others.

        GenerationResult([Example("je nitahitaji mwavuli leo", "weather_query")], GenerationStats(requested=8, accepted=1))
    """

    examples: list[Example]
    stats: GenerationStats | Mapping[str, Any]


class Strategy(ABC):
    """A way to make labelled data with an LLM.

    `options` declares what it reads from its `[strategies."<name>"]` suite table (checked when the
    plan is built); a declared option the table does not set takes the suite's `[generation]` value of
    the same name where there is one (`demos_per_class`, `summarizer`, ...), else its `default`. None:
    nothing declared, the table is passed as written.

        class OneLine(Strategy):
            name = "one-line"
            options = {"words": Option(int, "a positive integer", 1, default=12)}

            def generate(self, ctx):
                ...  # ctx.engine.generate([...]), each request seeded from ctx.seed
                return GenerationResult(examples, {"requested": ctx.per_class * len(ctx.task.labels),
                                                   "accepted": len(examples)})
    """

    name: str
    description: str = ""
    options: Mapping[str, Option] | None = None

    def unavailable(self, task: Task, language: Language) -> str | None:
        """Why this strategy cannot run for the pair, or None."""
        return None

    def fingerprint(self) -> str:
        """Changes when the strategy's prompts, parser or code change; part of its cells' identity,
        so a run directory never resumes a cell made by another method."""
        return self.name

    def reads(self, task: Task, language: Language) -> list[tuple[str, Split]]:
        """The gold (language, split) pairs a generation cell reads; their data fingerprints are part
        of its identity."""
        return [(language.code, "train")] if not task.unavailable(language.code, "train") else []

    def expected_calls(self, task: Task, per_class: int, samples_per_request: int) -> int:
        """A planning estimate of LLM requests for one cell (printed by --dry-run)."""
        return len(task.labels)

    def expected_work(self, task: Task, per_class: int, samples_per_request: int) -> Mapping[str, int]:
        """The same estimate split by phase, for the dry run's bill: `{"generation": calls}` unless a
        strategy also revises (`"revision"`) or writes label summaries (`"label summaries"`, work
        shared by every cell of the task and model, counted once by the estimate)."""
        return {"generation": self.expected_calls(task, per_class, samples_per_request)}

    def prepare(self, ctx: GenerationContext) -> None:
        """Work shared by every cell of a task (label summaries), done once per task before any
        generator is loaded, with the context of the task's first cell. Its `engine` and `models`
        load only if really used, so work already kept in `ctx.artifacts` costs nothing."""
        return None

    @abstractmethod
    def generate(self, ctx: GenerationContext) -> GenerationResult:
        """Generate up to `ctx.per_class` examples per label, in large batches."""


@dataclass
class ClassifierContext:
    """What a classifier gets for one fit: `seed` (this fit's: derive every random choice from it),
    `cache` (the run's store, a `harness.store.cache.Store`, for embeddings and other expensive
    intermediate results), `device` (`"cpu"`, `"cuda"`), `options` (its resolved
    `[classifiers."<name>"]` table), `log`, and `embedder`, behind `embed`.

    `ctx.embed(texts)` gives the text embeddings every classifier shares: e5-logreg's (frozen
    multilingual-e5-small, "query: " prefix, one unit-length float32 row of 384 per text), cached in
    `cache`, so gold texts are embedded once whichever classifier asks first:

        def fit_predict(self, train, test_texts, labels, ctx):
            x = ctx.embed([e.text for e in train])  # shape (len(train), 384)
            ...

    A run fills `embedder` with `harness.api.e5_embeddings`; a context built by hand for a test passes
    it (`ClassifierContext(seed=0, cache=store, embedder=e5_embeddings)`) or a stand-in of the same
    shape."""

    seed: int
    cache: EmbeddingStore  # the run's harness.store.cache.Store: embeddings, expensive intermediate results
    device: str = "cpu"
    options: Mapping[str, Any] = field(default_factory=dict)  # the suite's [classifiers."<name>"] table
    log: Callable[[str], None] = print
    embedder: Callable[[Sequence[str], EmbeddingStore], Any] | None = None  # (texts, cache) -> array: what `embed` calls

    def embed(self, texts: Sequence[str]) -> Any:
        """The shared embeddings of `texts`, one row per text in their order (a numpy array)."""
        if self.embedder is None:
            raise RuntimeError("this ClassifierContext has no embedder: build it with "
                               "embedder=harness.api.e5_embeddings, as a run does")
        return self.embedder(texts, self.cache)


@dataclass(frozen=True)
class Fit:
    """What one fit returns: a label for every test text, and facts about the fit worth keeping next
    to its scores (epochs, seconds per epoch, the device), written into the seed's row.

        return Fit(predictions, {"epochs": 7, "best_epoch": 4, "device": ctx.device})
    """

    predictions: list[str]
    details: Mapping[str, Any] = field(default_factory=dict)


class Classifier(ABC):
    """A downstream classifier. Stateless between calls: each `fit_predict` is one fit, and what it
    wants recorded comes back with its predictions (`Fit`).

    `options` declares what it reads from its `[classifiers."<name>"]` suite table, as engines do
    (`ModelSpec.options`): an undeclared or mistyped option fails when the plan is built. `cpus`,
    `gpus` and `replicas` are every classifier's (scheduling).

    `deterministic = True` says the fit does not depend on `ctx.seed` (a nearest centroid over
    frozen embeddings, say): it is fitted once per training set and that fit stands for every seed,
    whose identical scores then carry no interval and decide no verdict.

    `fits_seeds_together = True` says the classifier takes every seed of a cell in one call
    (`fit_predict_seeds`): work shared by the seeds (tokenizing, batching the test set) is then done
    once, and the seeds may train together on one device. A classifier that does not declare it is
    called once per seed."""

    name: str
    description: str = ""
    options: Mapping[str, Option] = {}
    deterministic: bool = False
    fits_seeds_together: bool = False
    #: its runs also compute the data diagnostics (harness/pipeline/diagnostics.py), which read the
    #: shared embeddings: worth it where the classifier embeds with them anyway or costs far more
    diagnoses: bool = False
    #: the classifier the diagnostics train on the gold subset to read label fidelity (one per registry)
    reads_label_fidelity: bool = False
    #: seconds per training example of one fit per device kind, at the default options, that the dry
    #: run's bill uses where this machine has measured nothing yet
    rates: Mapping[str, float] = {}

    @abstractmethod
    def fit_predict(
        self, train: Sequence[Example], test_texts: Sequence[str], labels: Sequence[str], ctx: ClassifierContext
    ) -> Fit | list[str]:
        """Train on `train` (hold out part of it for model selection if needed, seeded by
        ctx.seed) and predict a label for every test text: a `Fit`, or the list of labels alone
        when there is nothing else to record."""

    def rate_name(self, options: Mapping[str, Any]) -> str:
        """Under which name this classifier's measured speed is filed and looked up for the dry run's
        bill: its name, or more where an option changes the speed several-fold (the encoder a
        fine-tuning trains, say), so one setting's speed never prices another's."""
        return self.name

    def fit_predict_seeds(self, train: Sequence[Example], test_texts: Sequence[str], labels: Sequence[str],
                          ctxs: Sequence[ClassifierContext]) -> list[Fit | list[str]]:
        """One fit per context (each its own `seed`; the same data, options and device), in their order.
        The runner calls it with all seeds of a cell when `fits_seeds_together` is set; the default
        fits them one after another."""
        return [self.fit_predict(train, test_texts, labels, ctx) for ctx in ctxs]

    def fingerprint(self) -> str:
        return self.name


class Tracker(ABC):
    """Reports a run to an experiment tracker. Registered once per process (`bench_register_trackers`);
    each run works on its own copy (`copy.copy`), so what `start` keeps on `self` belongs to that run
    and `--track mlflow:A --track mlflow:B` reports to both.

    - `start(settings, uri)`: the run is about to compute its pending cells. `settings` holds `suite`,
      `settings` (the suite settings that decide the numbers), `settings_hash`, `plan_hash`, `out` (the
      run directory), `shard`, `harness_version`, `grid` (the tasks, languages, strategies, models and
      classifiers of the plan) and `cells` (how many of each kind); `uri` is what followed the name in
      `--track NAME:URI`, or None.
    - `cell(record)`: a cell's result was just saved: a `GenerationSaved` (`id`, `task`, `language`,
      `strategy`, `model`, `replicate`, `stats`: the generation statistics) or an `EvaluationSaved`
      (also `classifier`, `source`, `train_size`, `per_seed`: one `SeedScore` per classifier seed,
      empty, with `floor`, for a cell that could not be trained, and `note`); `record.kind` says
      which (harness/records.py). Cells finished by an earlier invocation of a resumed run are not
      sent again; the leaderboard at `finish` has them all. Called in the process that writes the run
      directory, whichever executor computed the cell.
    - `finish(leaderboard, files)`: the leaderboard is written; `files` maps `"leaderboard"` and
      `"report"` to leaderboard.json and report.md in the run directory.
    - `abort(reason)`: the run stopped with an error or was interrupted before `finish` (optional).

    An exception out of any of them is reported as one line and the tracker is not called again.

        class Printer(Tracker):
            name = "print"

            def start(self, settings, uri):
                print("run", settings["suite"], settings["settings_hash"])

            def finish(self, leaderboard, files):
                print(len(leaderboard.results), "rows; report at", files["report"])
    """

    name: str
    description: str = ""

    @abstractmethod
    def start(self, settings: dict[str, Any], uri: str | None) -> None:
        """Open the tracker's run (connect, create it, log the settings)."""

    def cell(self, record: CellSaved) -> None:
        """One finished cell; the default ignores it."""
        return None

    @abstractmethod
    def finish(self, leaderboard: Leaderboard, files: dict[str, Path]) -> None:
        """Log the final results and close the tracker's run."""

    def abort(self, reason: str) -> None:
        """The run ended without a leaderboard (`reason`: the error, or "interrupted"); the default
        does nothing."""
        return None
