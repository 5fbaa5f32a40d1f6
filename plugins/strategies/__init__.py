"""Built-in strategies: the paper's seven and zero-shot, all built from the same ingredients."""

from harness.hookspecs import hookimpl
from plugins.strategies.compose import PAPER, ComposedStrategy, Recipe

__all__ = ["ComposedStrategy", "Recipe"]


@hookimpl
def bench_register_strategies(register):
    for name, recipe in PAPER:
        register(ComposedStrategy(name, recipe))
