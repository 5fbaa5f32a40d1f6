"""Built-in strategies: the paper's seven and zero-shot, and four that measure an ingredient the
paper does not have (`+desc`, `+lid`), all recipes of the same ingredients (harness.api.Recipe)."""

from harness.api import ComposedStrategy, Recipe, hookimpl

PAPER = [
    ("zero-shot", Recipe()),
    ("sl", Recipe(summary=True)),
    ("english-demos+sl", Recipe(demos="english", summary=True)),
    ("english-demos+revision", Recipe(demos="english", revision=True)),
    ("target-demos", Recipe(demos="target")),
    ("target-demos+sl", Recipe(demos="target", summary=True)),
    ("target-demos+revision", Recipe(demos="target", revision=True)),
    ("target-demos+sl+revision", Recipe(demos="target", summary=True, revision=True)),
]

#: ingredients beyond the paper, so that their effect is measured, not baked into every row
EXTRA = [
    ("zero-shot+desc", Recipe(describe=True)),
    ("target-demos+desc", Recipe(demos="target", describe=True)),
    ("zero-shot+lid", Recipe(language_filter=True)),
    ("target-demos+lid", Recipe(demos="target", language_filter=True)),
]


@hookimpl
def bench_register_strategies(register):
    for name, recipe in PAPER + EXTRA:
        register(ComposedStrategy(name, recipe))
