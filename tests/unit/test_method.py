"""The method's fairness and fidelity: shared demonstrations, cell identity, the paper's prompts,
clean parsing, the language check and the faithful mode against the reference's own behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeEngine

from harness.api import GenerationResult, SamplingParams, Strategy, standalone_context
from harness.config.suite import Suite, load_suite
from harness.kits.strategies import language_id, parsing, prompts
from harness.pipeline.plan import build_plan
from harness.pipeline.progress import Reporter
from harness.pipeline.runner import Runner
from harness.pipeline.seeds import sampling_seed
from harness.registry.discovery import load_registry
from harness.store.cache import CachedEngine, Store

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_parsing.json").read_text(encoding="utf-8"))


def Recorder(name: str, reply="", chat: bool = True):  # noqa: N802
    """Answers every prompt with one fixed reply and keeps the prompts."""
    return FakeEngine(reply, chat=chat, fingerprint=f"{name}@1")


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def ctx_for(reg, engine, tmp_path, *, strategy, model, faithful=False, task="massive10", lang="sw", per_class=2,
            run_dir=None):
    t = reg.task(task)
    return standalone_context(
        t, t.languages()[lang], CachedEngine(engine, Store(tmp_path / "c.sqlite"), model), run_dir or tmp_path,
        cell=f"{strategy}.{model}", per_class=per_class, seed=sampling_seed(0, task, lang, strategy, model), run_seed=0,
        sampling=SamplingParams(max_new_tokens=64), calls_per_class=1, samples_per_request=1,
        options={"summary_examples": 3, "demos_per_class": 3, "revision_max_new_tokens": 16, "faithful": faithful,
                 "summarizer": ""})


def shown_demos(req) -> str:
    return req.messages[-1].content.split("Examples:\n")[1].split("\nNow generate")[0]


# -- common random numbers ---------------------------------------------------------------------

def test_every_strategy_and_model_sees_the_same_demos(reg, tmp_path):
    seen = {}
    for strategy in ("target-demos", "target-demos+sl", "target-demos+revision", "target-demos+sl+revision"):
        for model in ("gemma", "llama"):
            eng = Recorder(model)
            reg.strategy(strategy).generate(ctx_for(reg, eng, tmp_path, strategy=strategy, model=model))
            gen = [r for r in eng.requests if r.messages and "Examples:\n" in r.messages[-1].content]
            seen[(strategy, model)] = {r.messages[-1].content.split("label: ")[1].split()[0]: shown_demos(r) for r in gen}
    first = next(iter(seen.values()))
    assert len(first) == 10 and all(v == first for v in seen.values())
    files = list((tmp_path / "demos").glob("*.json"))
    assert [f.name for f in files] == ["massive10.sw.target.k3.json"]  # recorded once for all eight cells
    record = json.loads(files[0].read_text())
    stats = json.loads((tmp_path / "artefacts" / "target-demos.gemma" / "candidates.json").read_text())["demos"]
    assert stats["digest"] == record["digest"]


def test_demos_depend_on_run_seed_language_and_source_only(reg):
    from harness.kits.strategies.demos import draw

    task = reg.task("massive10")
    base = draw(task, "sw", "target", 3, run_seed=0)
    assert draw(task, "sw", "target", 3, run_seed=0) == base
    assert draw(task, "sw", "target", 3, run_seed=1) != base
    assert draw(task, "sw", "english", 3, run_seed=0) != base
    english = {e.text for e in task.load("en", "train")}
    assert all(d in english for ds in draw(task, "sw", "english", 3, run_seed=0).values() for d in ds)


def _suite(**kw) -> Suite:
    defaults = dict(tasks=["massive10"], languages=["sw", "de"], strategies=["zero-shot", "target-demos"],
                    models=["gemma-3-270m", "hf:some/model"], classifiers=["tfidf-logreg", "finetune"],
                    per_class=4, seeds=[0, 1])
    defaults.update(kw)
    return Suite(**defaults)


def test_options_that_cannot_change_outputs_keep_every_cell_id(reg):
    a = build_plan(_suite(), reg)
    b = build_plan(_suite(model_options={"gemma-3-270m": {"gpus": 4, "cpus": 8}, "hf:some/model": {"replicas": 2,
                                         "gpus": 1}}, classifier_options={"finetune": {"gpus": 0.25}}), reg)
    assert [c.id for c in a.gen_cells] == [c.id for c in b.gen_cells]
    assert [c.id for c in a.eval_cells] == [c.id for c in b.eval_cells]
    c = build_plan(_suite(model_options={"gemma-3-270m": {"dtype": "float32"}}), reg)
    changed = {x.id for x in c.gen_cells} - {x.id for x in a.gen_cells}
    assert changed and all(".gemma-3-270m." in i for i in changed)  # an output option changes that model's cells


def test_sampling_seed_is_the_cells_factors_only():
    s = sampling_seed(0, "massive10", "sw", "target-demos", "gemma-3-270m")
    assert s == sampling_seed(0, "massive10", "sw", "target-demos", "gemma-3-270m")
    assert len({s, sampling_seed(1, "massive10", "sw", "target-demos", "gemma-3-270m"),
                sampling_seed(0, "massive10", "sw", "zero-shot", "gemma-3-270m"),
                sampling_seed(0, "massive10", "sw", "target-demos", "hf:x")}) == 4


# -- per-model sampling ----------------------------------------------------------------------

def test_sampling_per_model_overrides_the_suite(tmp_path, reg):
    path = tmp_path / "s.toml"
    path.write_text('[grid]\ntasks = ["sentiment"]\nlanguages = ["sw"]\nstrategies = ["zero-shot"]\n'
                    'models = ["gemma-3-270m", "hf:x"]\nclassifiers = ["tfidf-logreg"]\n[sampling]\nrepetition_penalty = 1.2\n'
                    '[models."gemma-3-270m"]\nbatch_size = 8\n[models."gemma-3-270m".sampling]\nrepetition_penalty = 1.0\n',
                    encoding="utf-8")
    suite = load_suite(path)
    assert suite.sampling_for("gemma-3-270m").repetition_penalty == 1.0
    assert suite.sampling_for("hf:x").repetition_penalty == 1.2
    assert "sampling" not in suite.model_options["gemma-3-270m"]  # the engine never sees it
    plan = build_plan(Suite.from_dict({**suite.to_dict(), "tasks": ["sentiment"], "languages": ["sw"],
                                       "strategies": ["zero-shot"]}), reg)
    by_model = {c.model: c.config["sampling"]["repetition_penalty"] for c in plan.gen_cells}
    assert by_model == {"gemma-3-270m": 1.0, "hf:x": 1.2}


def test_bad_model_sampling_names_its_section_and_line(tmp_path):
    from harness.errors import BenchError

    path = tmp_path / "s.toml"
    path.write_text('[models."gemma-3-270m".sampling]\ntemprature = 0.5\n', encoding="utf-8")
    with pytest.raises(BenchError, match=r"s.toml:2: unknown key 'temprature' .*did you mean 'temperature'"):
        load_suite(path)
    path.write_text('[models."gemma-3-270m".sampling]\ntop_p = 2.0\n', encoding="utf-8")
    with pytest.raises(BenchError, match=r'\[models."gemma-3-270m".sampling\] top_p must be in'):
        load_suite(path)


# -- the paper's prompts -----------------------------------------------------------------------

def test_chat_prompt_is_the_references_wording(reg, tmp_path):
    eng = Recorder("m")
    reg.strategy("target-demos+sl").generate(ctx_for(reg, eng, tmp_path, strategy="target-demos+sl", model="m",
                                                     per_class=100))
    req = next(r for r in eng.requests if r.messages[0].content.startswith("You are an excellent text generator"))
    system, user = req.messages
    assert system.content == ("You are an excellent text generator and can generate representative text samples "
                              "for the given class in Swahili.")
    label = user.content.split("label: ")[1].split()[0]
    assert label in reg.task("massive10").labels  # the raw label, underscores and all
    assert user.content.startswith(f"You are required to produce 102 examples in Swahili that can have the label: "
                                   f"{label} which has the following meaning: This intent involves a thing. Note that "
                                   "some examples from the dataset look as follows:\nExamples:\n")
    assert user.content.endswith(f"Now generate 102 similar examples for the label {label}. Each example should be on "
                                 f"a new line. Do not generate anything that cannot be classified as {label} and do "
                                 f"not repeat the instruction.\nGenerated examples for label {label}:\n")
    assert "Task:" not in user.content and "voice assistant" not in user.content


def test_description_is_an_ingredient_of_its_own(reg, tmp_path):
    plain, desc = Recorder("a"), Recorder("b")
    reg.strategy("zero-shot").generate(ctx_for(reg, plain, tmp_path, strategy="zero-shot", model="a"))
    reg.strategy("zero-shot+desc").generate(ctx_for(reg, desc, tmp_path, strategy="zero-shot+desc", model="b"))
    assert not any("voice assistant" in r.messages[-1].content for r in plain.requests)
    assert all(r.messages[-1].content.startswith("Task: Intent classification") for r in desc.requests)


def test_reviser_always_judges_with_the_summary_and_the_references_messages(reg, tmp_path):
    eng = Recorder("m", reply="Kengele yangu imewekwa saa ngapi leo?\nNinaomba uzime kengele zote za asubuhi")
    res = reg.strategy("target-demos+revision").generate(ctx_for(reg, eng, tmp_path, strategy="target-demos+revision",
                                                                  model="m"))
    revisions = [r for r in eng.requests if r.messages[0].content.startswith("You are an excellent classifier")]
    assert revisions
    system, user = revisions[0].messages
    label = system.content.split("belongs to the class ")[1].split(" or not")[0]
    assert system.content == (f"You are an excellent classifier and can reason whether a given sample in Swahili "
                              f"belongs to the class {label} or not.")
    # the reference's template puts its own full stop after the summary's: "thing.. Answer"
    assert user.content.startswith(f"Decide whether the following example belongs to the class {label} which means "
                                   "This intent involves a thing.. Answer yes if it belongs")
    assert user.content.endswith("Answer no if the example is not in Swahili. Explain your answer in a concise way "
                                 "after generating yes or no. Input: Kengele yangu imewekwa saa ngapi leo? Answer:")
    generation = [r for r in eng.requests if "Examples:" in r.messages[-1].content]
    assert all("which has the following meaning" not in r.messages[-1].content for r in generation)  # no SL here
    assert res.examples == []  # the reply is not a verdict: nothing passes revision


def test_revision_strategies_need_english_for_their_summaries(reg):
    task = reg.task("sentiment")
    assert reg.strategy("target-demos+revision").unavailable(task, task.languages()["sw"]) is None
    assert "revision" in reg.strategy("target-demos+revision").description


# -- parsing -----------------------------------------------------------------------------------

EXPECTED_DEFAULT = [
    ["Kengele yangu imewekwa saa ngapi?", "Je, nina kengele kesho asubuhi?", "Nionyeshe kengele zote nilizoweka"],
    ["Wie wird das Wetter morgen in Berlin?", "Regnet es heute in München?", "Brauche ich heute einen Regenschirm?"],
    ["Weka kengele ya saa kumi asubuhi", "Zima kengele zote za wiki hii", "Niamshe saa mbili kamili"],
    ["Je, kengele yangu ni saa ngapi?", "Nina kengele ngapi zilizowekwa?", "Kengele ya kesho imewekwa?"],
    ["Zeige mir meine Wecker für morgen", "Welche Wecker habe ich gestellt?", "Ist mein Wecker für sechs Uhr an?"],
    ["Weka kengele saa sita asubuhi", "Kengele yangu ni saa ngapi leo", "Zima kengele ya asubuhi tafadhali"],
    ["Wie spät ist mein Wecker?", "Habe ich einen Wecker gestellt?", "Lösche den Wecker für morgen"],
    ["Beth yw'r amser ar fy larwm heddiw?", "Oes gen i larwm wedi'i osod ar gyfer yfory?",
     "Dangos fy holl larymau i mi os gwelwch yn dda"],
    ["Wie spät ist mein Wecker eingestellt?", "Habe ich einen Wecker für morgen gestellt?", "Welche Wecker sind aktiv?",
     "Zeig mir alle meine Wecker"],
]


@pytest.mark.parametrize("case", range(len(EXPECTED_DEFAULT)))
def test_only_examples_survive_realistic_chat_replies(case):
    reply = REFERENCE["parsing"][case]["reply"]
    assert parsing.split_reply(reply, continuation=False, truncated=False) == EXPECTED_DEFAULT[case]


@pytest.mark.parametrize("line", [
    "I hope these are helpful!", "Do you want me to generate more examples?", "Let me know if you need more.",
    "Would you like more examples in Swahili?", "Thank you!", "Note: these are informal requests.",
    "Feel free to ask for more.", "I can also generate examples for other labels.",
])
def test_closing_chatter_is_dropped(line):
    reply = f"Sure, here are examples in Swahili for the label alarm_query\nWeka kengele saa sita asubuhi\n{line}"
    assert parsing.split_reply(reply, continuation=False, truncated=False) == ["Weka kengele saa sita asubuhi"]


def test_an_utterance_that_starts_like_a_preamble_is_kept():
    reply = "okay google set an alarm for six\nsure set a timer for ten minutes"
    assert parsing.split_reply(reply, continuation=False, truncated=False) == [
        "okay google set an alarm for six", "sure set a timer for ten minutes"]


@pytest.mark.parametrize("case", range(len(REFERENCE["parsing"])))
def test_faithful_parsing_equals_the_references(case):
    item = REFERENCE["parsing"][case]
    assert parsing.faithful_lines(item["reply"]) == item["lines"]


@pytest.mark.parametrize("case", range(len(REFERENCE["verdicts"])))
def test_faithful_verdict_equals_the_references(case):
    item = REFERENCE["verdicts"][case]
    assert (parsing.verdict(item["reply"], faithful=True) == "yes") is item["yes"]


def test_faithful_generation_keeps_the_references_quirks(reg, tmp_path):
    demo_reply = REFERENCE["parsing"][0]["reply"]
    eng = Recorder("m", reply=demo_reply)
    res = reg.strategy("target-demos").generate(ctx_for(reg, eng, tmp_path, strategy="target-demos", model="m",
                                                        faithful=True, per_class=100))
    user = next(r for r in eng.requests if "Examples:" in r.messages[-1].content).messages[-1].content
    assert shown_demos(type("R", (), {"messages": [None, type("M", (), {"content": user})]})).startswith("['")
    assert "produce 102 examples" in user  # no cap at 50
    per_label = {}
    for e in res.examples:
        per_label.setdefault(e.label, []).append(e.text)
    assert all(v == REFERENCE["parsing"][0]["lines"] for v in per_label.values())  # one round, deduplicated in class


# -- language identification ---------------------------------------------------------------------

def test_language_check_flags_english_written_for_swahili():
    assert language_id.off_language("Set an alarm for six in the morning please", "sw", "swh_Latn", "Latn") is True
    assert language_id.off_language("Weka kengele saa kumi na mbili asubuhi", "sw", "swh_Latn", "Latn") is False
    assert language_id.off_language("Gosod larwm am chwech y bore", "cy", "cym_Latn", "Latn") is False
    # a language lingua does not know falls back to the script check
    assert language_id.off_language("hello there friend", "xx", "xxx_Thai", "Thai") is True
    assert language_id.off_language("hello there friend", "xx", "xxx_Zzzz", "Zzzz") is None


def test_lid_ingredient_rejects_off_language_candidates_and_every_cell_reports_the_rate(reg, tmp_path):
    reply = ("Kengele yangu imewekwa saa ngapi leo?\nWhat time is my alarm set for today?\n"
             "Je, nina kengele kesho asubuhi mapema?")
    plain, lid = Recorder("a", reply), Recorder("b", reply)
    p = reg.strategy("zero-shot").generate(ctx_for(reg, plain, tmp_path, strategy="zero-shot", model="a"))
    f = reg.strategy("zero-shot+lid").generate(ctx_for(reg, lid, tmp_path, strategy="zero-shot+lid", model="b"))
    # the same reply for every label: the first label takes two lines, the rest are duplicates
    assert p.stats.off_language_rate == pytest.approx(1 / 3, abs=1e-4) and p.stats.off_language_accepted == 1
    assert f.stats.off_language_accepted == 0 and f.stats.language_filter is True
    assert [e.text for e in f.examples] == ["Kengele yangu imewekwa saa ngapi leo?", "Je, nina kengele kesho asubuhi mapema?"]
    cands = json.loads((tmp_path / "artefacts" / "zero-shot+lid.b" / "candidates.json").read_text())["candidates"]
    assert {c["status"] for c in cands if c["text"].startswith("What")} == {"not in Swahili (language identification)"}


def test_prompt_templates_enter_cell_identity(reg, monkeypatch):
    before = build_plan(_suite(), reg)
    monkeypatch.setattr(prompts, "templates_digest", lambda: "edited")
    after = build_plan(_suite(), reg)
    assert not {c.id for c in before.gen_cells} & {c.id for c in after.gen_cells}


class _Recorder(Strategy):
    """Generates nothing; reports the seeds and sampling the runner gave it."""

    name = "recorder"

    def generate(self, ctx):
        return GenerationResult([], {"seed": ctx.seed, "run_seed": ctx.run_seed, "sampling": ctx.sampling.as_dict()})


def test_runner_gives_each_cell_its_factor_seed_and_the_models_sampling(reg, tmp_path):
    suite = _suite(strategies=["recorder"], model_sampling={"gemma-3-270m": {"repetition_penalty": 1.0}})
    reg.strategies["recorder"] = _Recorder()
    try:
        plan = build_plan(suite, reg)
        store = Store(tmp_path / "c.sqlite")
        runner = Runner(plan, reg, tmp_path / "run", store, reporter=Reporter(enabled=False),
                        load_engine=lambda m: CachedEngine(Recorder(m), store, m))
        stats = {(c.model, c.language): p.stats.extra for model in ("gemma-3-270m", "hf:some/model")
                 for c, p in runner.generation_payloads(model, [c for c in plan.gen_cells if c.model == model])}
    finally:
        del reg.strategies["recorder"]
    for (model, language), got in stats.items():
        assert got["seed"] == sampling_seed(suite.seed, "massive10", language, "recorder", model)
        assert got["run_seed"] == suite.seed
        assert got["sampling"]["repetition_penalty"] == (1.0 if model == "gemma-3-270m" else suite.sampling.repetition_penalty)
    assert len({s["seed"] for s in stats.values()}) == len(stats) == 4
