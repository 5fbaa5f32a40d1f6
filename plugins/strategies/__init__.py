"""Built-in strategies: the paper's seven and zero-shot, and four that measure an ingredient the
paper does not have (`+desc`, `+lid`), all built from the same ingredients."""

from harness.api import hookimpl
from plugins.strategies.compose import EXTRA, PAPER, ComposedStrategy, Recipe

__all__ = ["ComposedStrategy", "Recipe"]


@hookimpl
def bench_register_strategies(register):
    for name, recipe in PAPER + EXTRA:
        register(ComposedStrategy(name, recipe))
