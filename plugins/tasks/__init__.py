"""Built-in tasks: the paper's MASSIVE-10 intent, SIB-200 topic and sentiment tasks."""

from harness.api import hookimpl
from plugins.tasks.gold import Massive10, Sentiment, Sib200

__all__ = ["Massive10", "Sentiment", "Sib200"]


@hookimpl
def bench_register_tasks(register):
    register(Massive10())
    register(Sib200())
    register(Sentiment())
