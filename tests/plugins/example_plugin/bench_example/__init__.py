"""A plugin package as a contributor would write it: nothing here edits the harness."""

from pathlib import Path

from harness.api import ComposedStrategy, FileTask, Language, Recipe, hookimpl

DATA = Path(__file__).parent / "data"


def no_digits(text, label, ctx):
    return "contains digits" if any(ch.isdigit() for ch in text) else None


@hookimpl
def bench_register_strategies(register):
    # a new strategy composed from the built-in ingredients plus an extra filter
    register(ComposedStrategy("target-demos+nodigits", Recipe(demos="target", k=3, filters=(no_digits,))))


@hookimpl
def bench_register_tasks(register):
    register(FileTask(
        name="toy-sentiment",
        labels=("negative", "positive"),
        description="Sentiment of short English and Swahili statements.",
        languages={"sw": Language("sw", "Swahili", "swh_Latn", "high")},
        files={"sw": (str(DATA / "sw-train.jsonl"), str(DATA / "sw-test.csv"))},
    ))


@hookimpl
def bench_register_languages(register):
    # Yoruba from SIB-200's 205 languages, in three lines
    register("sib200", Language("yo", "Yoruba", "yor_Latn", "low", "yor_Latn"))
