"""Built-in experiment trackers (`bench run --track NAME[:URI]`)."""

from harness.api import hookimpl
from plugins.trackers.mlflow_tracker import MlflowTracker


@hookimpl
def bench_register_trackers(register):
    register(MlflowTracker())
