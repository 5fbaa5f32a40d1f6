"""Strategies as combinations of ingredients: demonstrations (none, English or target language),
a label summary, LLM revision, and two the paper does not have: the task description in the prompt
(`+desc`) and a language-identification filter (`+lid`). The paper's seven strategies and zero-shot
are recipes (plugins/strategies); a contributor builds a new one the same way (docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.contracts import (
    Example,
    GenerationContext,
    GenerationRequest,
    GenerationResult,
    Language,
    Option,
    SamplingParams,
    Strategy,
    Task,
)
from harness.kits.code_fingerprint import code_fingerprint
from harness.kits.strategies import demos as demo_draws
from harness.kits.strategies import language_id, parsing, prompts, summaries
from harness.kits.strategies.demos import DemoSelector, random_demos
from harness.kits.strategies.summaries import label_summaries
from harness.pipeline import seeds
from harness.records import Candidate, Candidates, CandidateStatus, ClassCount, DemoRecord, GenerationStats
from harness.store.cache import digest

__all__ = ["ComposedStrategy", "Recipe", "method_fingerprint"]

def method_fingerprint() -> str:
    """Identity of the method's code and prompts: a cell made by other prompts or another parser is
    another cell, never a finished one to resume; a comment or a formatter run changes nothing
    (harness/kits/code_fingerprint.py)."""
    return digest([prompts.templates_digest(), code_fingerprint(__name__, parsing, demo_draws,
                                                                language_id, prompts, summaries)])[:16]


#: what a composed strategy reads from its `[strategies."X"]` table; a key the table leaves out takes
#: the suite's [generation] value of the same name (every recipe of a suite shares it)
OPTIONS: dict[str, Option] = {
    "demos_per_class": Option(int, "a positive integer", 1, default=10),
    "summary_examples": Option(int, "a positive integer", 1, default=10),  # English examples shown per label
    "revision_max_new_tokens": Option(int, "a positive integer", 1, default=64),
    "summarizer": Option(str, 'a model name, or "" for each generator itself', default="", model=True),
    "faithful": Option(bool, "true or false", default=False),  # the reference code's parsing and checks
}


def _callable_name(fn: Any) -> str:
    """What a recipe's description calls a selector or filter: its name (a lambda has none to give)."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "an unnamed function" if name == "<lambda>" else name


def _option(ctx: GenerationContext, key: str) -> Any:
    return ctx.options.get(key, OPTIONS[key].default)


@dataclass(frozen=True)
class Recipe:
    """Which ingredients a `ComposedStrategy` combines; every field is off by default (zero-shot).

    - `demos`: demonstrations in the prompt: `"none"`, `"english"` (English gold train examples) or
      `"target"` (the target language's), drawn once per task, language and replicate and shown to
      every strategy and model alike.
    - `summary`: each label's summary (written once per task by an LLM) in the generation prompt.
    - `revision`: an LLM judges every candidate against its label's summary; any answer but "yes"
      rejects it.
    - `describe`: the task's description and text kind in every prompt (not in the paper).
    - `language_filter`: reject candidates the language check flags as another language, for the
      languages where the check is reliable (elsewhere it is only reported).
    - `k`: demonstrations per class; None takes the `demos_per_class` option (suite-wide or the
      strategy's table).
    - `select`: how the k demonstrations are chosen from a label's gold texts, a function
      `(pool, k, rng) -> list of texts` that draws with the seeded `rng` only; the default draws at
      random. Another selector's draw is kept under its own name (`demos/<...>.k5.<selector>.json`).
    - `filters`: functions `(text, label, ctx) -> reason or None`, run on each candidate after the
      built-in checks (length, duplicates, echoed prompt, near-duplicates); a reason rejects it and is
      recorded in candidates.json. `ctx` is the cell's `GenerationContext`.
    - `near_duplicates`: above 0, reject a candidate whose character-3-gram Jaccard similarity to an
      earlier candidate of its label that passed the checks reaches this value (0.8 rejects close
      paraphrases); 0 (the default) rejects exact duplicates only.

    A strategy's fingerprint, part of its cells' identity, is its name, the recipe with the names
    of its selector and filters (their names, not their code: rename a filter whose rule changes to
    get new cells), and the prompts and code of the harness's recipes.

        Recipe(demos="target", k=5, summary=True, filters=(short_only,), near_duplicates=0.8)
    """

    demos: Literal["none", "english", "target"] = "none"
    summary: bool = False  # the label summary in the generation prompt (the reviser always has it)
    revision: bool = False
    describe: bool = False  # the task description and text kind in every prompt (not in the paper)
    language_filter: bool = False  # reject candidates the language check flags (where it is reliable)
    k: int | None = None  # demos per class; None: the suite's demos_per_class
    select: DemoSelector = random_demos
    filters: tuple[Any, ...] = field(default=())  # (text, label, ctx) -> rejection reason or None
    near_duplicates: float = 0.0  # > 0: reject a text whose char-3-gram Jaccard similarity to an accepted one reaches this

    @property
    def needs_summaries(self) -> bool:
        return self.summary or self.revision


@dataclass
class _Generation:
    """The state of one cell's generation, from its first round to its result."""

    labels: list[str]
    chat: bool
    demos: dict[str, list[str]]
    demo_record: DemoRecord | None = None
    summaries: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    gold_lengths: list[int] = field(default_factory=list)
    window: tuple[int, int] = (10, 100)
    lid_filter: bool = False
    accepted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    calls: dict[str, int] = field(default_factory=dict)
    grams: dict[str, list[set[str]]] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"parsed": 0, "duplicates": 0, "rejected": 0,
                                                            "off_language": 0, "language_checked": 0})
    kept: dict[str, int] = field(default_factory=dict)
    too_long: dict[str, str] = field(default_factory=dict)
    round_no: int = 0


class ComposedStrategy(Strategy):
    """A strategy made of a `Recipe`'s ingredients, the way every built-in strategy is made: rounds of
    one batched request per label still short, each reply parsed into candidates, checked, revised
    if the recipe says so, and accepted up to `per_class`; every candidate is kept with its status
    in the cell's candidates.json. It reads `demos_per_class`, `summary_examples`,
    `revision_max_new_tokens`, `summarizer` and `faithful` (OPTIONS) from its `[strategies."<name>"]`
    table or the suite's `[generation]`. The description defaults to one written from the recipe.

        ComposedStrategy("target-demos+short", Recipe(demos="target", k=5, filters=(short_only,)))
    """

    options = OPTIONS

    def __init__(self, name: str, recipe: Recipe, description: str = ""):
        self.name = name
        self.recipe = recipe
        self.description = description or self._describe()

    def _describe(self) -> str:
        r = self.recipe
        parts = [{"none": "no demonstrations", "english": "English demonstrations",
                  "target": "target-language demonstrations"}[r.demos]]
        parts.append("label summary" if r.summary else "no label summary")
        parts.append("LLM revision (judged with the label summary)" if r.revision else "no revision")
        if r.describe:
            parts.append("task description in the prompt")
        if r.language_filter:
            parts.append("language-identification filter")
        if r.k is not None:
            parts.append(f"{r.k} demonstrations per class")
        if r.select is not random_demos:
            parts.append(f"demonstrations chosen by {_callable_name(r.select)}")
        if r.filters:
            parts.append("filters: " + ", ".join(_callable_name(f) for f in r.filters))
        if r.near_duplicates > 0:
            parts.append(f"near-duplicates rejected at char-3-gram Jaccard >= {r.near_duplicates:g}")
        return ", ".join(parts)

    def fingerprint(self) -> str:
        r = self.recipe
        return digest([self.name, r.demos, r.summary, r.revision, r.describe, r.language_filter, r.k,
                       getattr(r.select, "__qualname__", "custom"), [getattr(f, "__qualname__", "f") for f in r.filters],
                       r.near_duplicates, method_fingerprint()])[:16]

    # -- planning ------------------------------------------------------------------------------
    def unavailable(self, task: Task, language: Language) -> str | None:
        if self.recipe.demos == "target":
            why = task.unavailable(language.code, "train")
            if why:
                return f"needs target-language demonstrations: {why}"
        if self.recipe.demos == "english" or (self.recipe.needs_summaries and not task.label_summaries):
            if "en" not in task.languages() or task.unavailable("en", "train"):
                return "needs English gold train examples (demonstrations or label summaries)"
        return None

    def reads(self, task: Task, language: Language) -> list[tuple[str, str]]:
        own = not task.unavailable(language.code, "train")
        out = [(language.code, "train")] if own else []
        english = self.recipe.demos == "english" or (self.recipe.needs_summaries and not task.label_summaries)
        if (english or not own) and "en" in task.languages() and not task.unavailable("en", "train"):
            out.append(("en", "train"))  # English demos, summaries, or the length window's fallback
        return list(dict.fromkeys(out))

    def expected_calls(self, task: Task, per_class: int, samples_per_request: int) -> int:
        work = self.expected_work(task, per_class, samples_per_request)
        return work["generation"] + work.get("revision", 0)

    def expected_work(self, task: Task, per_class: int, samples_per_request: int) -> dict[str, int]:
        lines_per_sample = 5
        rounds = -(-per_class // (samples_per_request * lines_per_sample))
        work = {"generation": len(task.labels) * rounds}
        if self.recipe.revision:
            work["revision"] = int(len(task.labels) * per_class * 1.5)
        if self.recipe.needs_summaries and not task.label_summaries:
            work["label summaries"] = len(task.labels)
        return work

    # -- generation ----------------------------------------------------------------------------
    def prepare(self, ctx: GenerationContext) -> None:
        """Label summaries by the summarizer model, before any generator loads (a summarizer and a
        generator need not fit on one device together); without one, each generator writes its own."""
        if self.recipe.needs_summaries and _option(ctx, "summarizer"):
            self._summaries(ctx)

    @staticmethod
    def _summaries(ctx: GenerationContext) -> Mapping[str, str]:
        name = _option(ctx, "summarizer")
        engine, sampling = (ctx.models.engine(name), ctx.models.sampling(name)) if name else (ctx.engine, ctx.sampling)
        return label_summaries(ctx, engine, sampling, _option(ctx, "summary_examples"))

    def generate(self, ctx: GenerationContext) -> GenerationResult:
        """Rounds of one batched request per label still short (each label at most `calls_per_class`
        times), each reply parsed into candidates, checked, revised if the recipe says so, and
        accepted up to `per_class`; every candidate is kept with its status in candidates.json."""
        state = self._start(ctx)
        while batch := self._round_requests(ctx, state):
            replies = ctx.engine.generate([b[1] for b in batch])
            fresh = self._candidates(ctx, state, batch, replies)
            if self.recipe.revision and fresh:
                self._revise(ctx, fresh, state.summaries, state.chat, state.description)
            self._settle(ctx, state, fresh)
            state.round_no += 1
        if _option(ctx, 'faithful'):
            self._faithful_dedup(state.accepted, state.counts)
        return self._result(ctx, state)

    def _start(self, ctx: GenerationContext) -> _Generation:
        """What every round of the cell shares: demonstrations, summaries, the length window, and how
        many demonstrations each label's prompt can hold."""
        task, lang, r = ctx.task, ctx.language, self.recipe
        labels = list(task.labels)
        k = r.k or _option(ctx, 'demos_per_class')
        state = _Generation(labels=labels, chat=ctx.engine.is_chat, demos={lab: [] for lab in labels})
        if r.demos != "none":
            source = "target" if r.demos == "target" else "english"
            state.demos, demo_file, demo_digest = demo_draws.shared(task, lang.code, source, k, ctx.run_seed,
                                                                    ctx.artifacts, r.select, ctx.replicate)
            state.demo_record = DemoRecord(source, k, f"demos/{demo_file}", demo_digest)
        state.summaries = self._summaries(ctx) if r.needs_summaries else {}
        state.description = prompts.description_block(task.description, task.text_kind) if r.describe else ""
        gold_src = lang.code if not task.unavailable(lang.code, "train") else "en"
        state.gold_lengths = ([len(e.text) for e in task.load(gold_src, "train")]
                              if not task.unavailable(gold_src, "train") else [])
        state.window = (10, 100) if _option(ctx, 'faithful') else parsing.length_window(state.gold_lengths)
        state.lid_filter = r.language_filter and language_id.used_as_filter(lang.code)
        state.accepted = {lab: [] for lab in labels}
        # the reference keeps copies of its demos; the harness does not count them as new data
        state.seen = set() if _option(ctx, 'faithful') else {parsing.normalise(d) for ds in state.demos.values() for d in ds}
        state.calls = dict.fromkeys(labels, 0)
        state.grams = {lab: [] for lab in labels}
        for lab in labels:  # the demos each label's prompt keeps in the model's context (the same prompt every round)
            state.kept[lab], why = self._demos_that_fit(ctx, lab, state.demos[lab], self._summary_of(state, lab),
                                                        state.chat, state.description)
            if why:
                state.too_long[lab] = why
                ctx.log(f"{lab}: no request: {why}")
        return state

    def _summary_of(self, state: _Generation, label: str) -> str | None:
        return state.summaries.get(label) if self.recipe.summary else None

    def _round_requests(self, ctx: GenerationContext, state: _Generation) -> list[tuple[str, GenerationRequest, str]]:
        """One request for each label that is short, has calls left and fits the context."""
        batch = []
        for lab in state.labels:
            need = ctx.per_class - len(state.accepted[lab])
            if need <= 0 or state.calls[lab] >= ctx.calls_per_class or lab in state.too_long:
                continue
            req, prompt_text = self.request(ctx, lab, state.demos[lab][:state.kept[lab]], self._summary_of(state, lab),
                                             state.chat, state.round_no, state.description)
            batch.append((lab, req, prompt_text))
            state.calls[lab] += 1
        return batch

    def _candidates(self, ctx: GenerationContext, state: _Generation, batch: list[tuple[str, GenerationRequest, str]],
                    replies: list) -> list[dict[str, Any]]:
        """Every line of the replies as a candidate with its language check and, when it fails a
        check, its reason; the ones that pass are returned (fresh) for revision and acceptance."""
        lang, counts = ctx.language, state.counts
        fresh: list[dict[str, Any]] = []
        for (lab, req, prompt_text), comps in zip(batch, replies):
            for comp in comps:
                truncated = (comp.truncated if comp.truncated is not None
                             else comp.completion_tokens >= req.params.max_new_tokens)
                lines = (parsing.faithful_lines(comp.text) if _option(ctx, 'faithful')
                         else parsing.split_reply(comp.text, continuation=not state.chat, truncated=truncated))
                for text in lines:
                    counts["parsed"] += 1
                    cand = {"round": state.round_no, "label": lab, "text": text}
                    state.candidates.append(cand)
                    off = language_id.off_language(text, lang.code, lang.iso, lang.script)
                    cand["off_language"] = off
                    if off is not None:
                        counts["language_checked"] += 1
                        counts["off_language"] += bool(off)
                    reason = self._check(text, lab, prompt_text, state.window, state.seen, ctx, state.grams[lab])
                    if not reason and state.lid_filter and off:
                        reason = f"not in {lang.name} (language identification)"
                    if reason:
                        cand["status"] = reason
                        counts["duplicates" if reason == CandidateStatus.DUPLICATE.value else "rejected"] += 1
                        continue
                    if not _option(ctx, 'faithful'):
                        state.seen.add(parsing.normalise(text))
                    if self.recipe.near_duplicates > 0:
                        state.grams[lab].append(parsing.char_ngrams(parsing.normalise(text)))
                    fresh.append(cand)
        return fresh

    def _settle(self, ctx: GenerationContext, state: _Generation, fresh: list[dict[str, Any]]) -> None:
        """The fresh candidates' status after revision: accepted up to `per_class`, else surplus."""
        for cand in fresh:
            lab = cand["label"]
            if cand.get("revision_skipped"):
                cand["status"] = f"not revised: {cand['revision_skipped']}"
                state.counts["rejected"] += 1
            elif cand.get("verdict", "yes") != "yes":
                cand["status"] = CandidateStatus.REJECTED_BY_REVISION.value
                state.counts["rejected"] += 1
            elif len(state.accepted[lab]) >= ctx.per_class:
                cand["status"] = CandidateStatus.SURPLUS.value
            else:
                cand["status"] = CandidateStatus.ACCEPTED.value
                state.accepted[lab].append(cand)
        ctx.progress(sum(len(v) for v in state.accepted.values()), ctx.per_class * len(state.labels))

    def _result(self, ctx: GenerationContext, state: _Generation) -> GenerationResult:
        lang, labels, r = ctx.language, state.labels, self.recipe
        demos = state.demo_record
        ctx.artifacts.save("candidates.json", Candidates(
            self.name, list(state.window), demos, dict(state.summaries),
            [Candidate.from_json(c) for c in state.candidates]).to_json())
        examples = [Example(c["text"], lab) for lab in labels for c in state.accepted[lab]]
        stats = self._stats(ctx, examples, state.counts, state.calls, state.gold_lengths, labels)
        stats.off_language_accepted = sum(1 for lab in labels for c in state.accepted[lab] if c.get("off_language"))
        stats.demos = demos
        dropped = {lab: len(state.demos[lab]) - state.kept[lab] for lab in labels
                   if state.kept[lab] < len(state.demos[lab])}
        if dropped:  # demonstrations left out so that the prompt fits the model's context
            stats.demos_dropped = dropped
        if state.too_long:  # labels never asked for: the prompt does not fit even without demonstrations
            stats.context_rejected = state.too_long
        stats.language_check = language_id.check_kind(lang.code, lang.iso, lang.script)
        stats.language_filter = state.lid_filter
        if r.language_filter and not state.lid_filter:
            stats.language_filter_note = (f"not applied to {lang.code}: the check rejects over 2% of real gold text "
                                          "(benchmarks/README.md); reported only")
        return GenerationResult(examples, stats)

    @staticmethod
    def _faithful_dedup(accepted: dict[str, list[dict[str, Any]]], counts: dict[str, int]) -> None:
        """The reference counts copies toward the target and deduplicates (within a class) only at the
        end, so a class can end short. Its `list(set(...))` keeps an arbitrary subset; the first
        occurrences are kept here, so the result is reproducible."""
        for lab, cands in accepted.items():
            kept, texts = [], set()
            for c in cands:
                if c["text"] in texts:
                    c["status"] = CandidateStatus.DUPLICATE.value
                    counts["duplicates"] += 1
                else:
                    texts.add(c["text"])
                    kept.append(c)
            accepted[lab] = kept

    def request(self, ctx: GenerationContext, label: str, demos: list[str], summary: str | None, chat: bool,
                round_no: int, description: str) -> tuple[GenerationRequest, str]:
        """The request `generate` sends for one label and round with these demonstrations, and its
        text: what a prompt costs in tokens can be measured before a model is asked."""
        lang = ctx.language
        seed = seeds.request_seed(ctx.seed, label, round_no)
        if chat:
            messages = prompts.generation_chat(language=lang.name, label=label, count=ctx.per_class + 2,
                                               summary=summary, demos=demos, description=description,
                                               faithful=_option(ctx, 'faithful'))
            return (GenerationRequest(ctx.sampling, seed, n=ctx.samples_per_request, messages=messages),
                    "\n".join(m.content for m in messages))
        prompt = prompts.generation_base(language=lang.name, label=label, summary=summary, demos=demos,
                                         description=description)
        return GenerationRequest(ctx.sampling, seed, n=ctx.samples_per_request, prompt=prompt), prompt

    def _demos_that_fit(self, ctx: GenerationContext, label: str, demos: list[str], summary: str | None, chat: bool,
                        description: str) -> tuple[int, str | None]:
        """How many of the label's demos (from the start) the prompt can hold within the model's
        context and its generation budget: the reference drops demonstrations from the end until
        the prompt fits. With none left and still too long, the reason instead of a request."""
        why = None
        for keep in range(len(demos), -1, -1):
            req, _ = self.request(ctx, label, demos[:keep], summary, chat, 0, description)
            why = ctx.engine.context_overflow(req)
            if why is None:
                return keep, None
        return 0, why

    def _check(self, text: str, label: str, prompt_text: str, window: tuple[int, int], seen: set[str],
               ctx: GenerationContext, accepted_grams: list[set[str]] = ()) -> str | None:
        # the reference measures its 10-100 window before stripping spaces, inside its parser
        if not _option(ctx, 'faithful') and not window[0] <= len(text) <= window[1]:
            return f"length {len(text)} outside {window[0]}-{window[1]}"
        norm = parsing.normalise(text)
        if norm in seen:
            return CandidateStatus.DUPLICATE.value
        if not _option(ctx, 'faithful') and parsing.echoes(text, prompt_text):
            return "echoes the prompt"
        if self.recipe.near_duplicates > 0:
            grams = parsing.char_ngrams(norm)
            for other in accepted_grams:
                if parsing.jaccard(grams, other) >= self.recipe.near_duplicates:
                    return "near duplicate"
        for f in self.recipe.filters:
            reason = f(text, label, ctx)
            if reason:
                return reason
        return None

    @staticmethod
    def _revision_request(ctx: GenerationContext, label: str, summary: str, text: str, chat: bool,
                          description: str) -> GenerationRequest:
        params = SamplingParams(temperature=ctx.sampling.temperature, top_p=ctx.sampling.top_p,
                                repetition_penalty=ctx.sampling.repetition_penalty,
                                max_new_tokens=_option(ctx, 'revision_max_new_tokens'))
        p = prompts.revision(chat, language=ctx.language.name, label=label, summary=summary, text=text,
                             description=description)
        seed = seeds.revision_seed(ctx.seed, label, text)
        return (GenerationRequest(params, seed, n=1, messages=p) if chat
                else GenerationRequest(params, seed, n=1, prompt=p, stop=("\n",)))

    def _revise(self, ctx: GenerationContext, cands: list[dict[str, Any]], summaries: Mapping[str, str],
                chat: bool, description: str) -> None:
        reqs, judged = [], []
        for c in cands:
            req = self._revision_request(ctx, c["label"], summaries[c["label"]], c["text"], chat, description)
            why = ctx.engine.context_overflow(req)
            if why:  # the rest of the batch is still judged
                c["revision_skipped"] = why
                continue
            reqs.append(req)
            judged.append(c)
        with ctx.engine.phase("revision"):  # the cell's statistics show revision's share of its cost
            replies = ctx.engine.generate(reqs) if reqs else []
        for c, comps in zip(judged, replies):
            reply = comps[0].text.strip()
            c["verdict"] = parsing.verdict(reply, _option(ctx, 'faithful'))
            c["reason"] = reply[:300]

    def _stats(self, ctx: GenerationContext, examples: list[Example], counts: dict[str, int], calls: dict[str, int],
               gold_lengths: list[int], labels: list[str]) -> GenerationStats:
        texts = [e.text for e in examples]
        per_class = {lab: ClassCount(ctx.per_class, sum(e.label == lab for e in examples), calls=calls[lab])
                     for lab in labels}
        off = [t for t in texts if parsing.in_script(t, ctx.language.script) is False]
        parsed = counts["parsed"]
        return GenerationStats(
            requested=ctx.per_class * len(labels),
            accepted=len(examples),
            rejected=counts["rejected"],
            duplicates=counts["duplicates"],
            parsed=parsed,
            per_class=per_class,
            shortfall={lab: v.requested - v.accepted for lab, v in per_class.items() if v.accepted < v.requested},
            acceptance_rate=round(len(examples) / parsed, 4) if parsed else 0.0,
            duplicate_rate=round(counts["duplicates"] / parsed, 4) if parsed else 0.0,
            mean_length=round(sum(map(len, texts)) / len(texts), 1) if texts else 0.0,
            gold_mean_length=round(sum(gold_lengths) / len(gold_lengths), 1) if gold_lengths else 0.0,
            distinct_1=round(parsing.distinct_n(texts, 1), 4),
            distinct_2=round(parsing.distinct_n(texts, 2), 4),
            off_script=len(off),
            # the share of what the model wrote that the language check flags (before any filter)
            off_language_rate=(round(counts["off_language"] / counts["language_checked"], 4)
                               if counts["language_checked"] else None),
        )

