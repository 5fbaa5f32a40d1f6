"""`bench run --track mlflow[:URI]`: the run as one MLflow run.

What goes where, and why:

- params: the run's settings flattened (`settings.sampling.temperature`, `grid.languages`, ...),
  values longer than MLflow accepts cut short with a trailing "…" (the whole settings are in the
  leaderboard artifact's manifest).
- metrics: one set per leaderboard row, named `<row>/<metric>`, `<row>` being the row's task,
  language, strategy, model and classifier joined by dots (`massive10.sw.zero-shot.gemma-3-270m.
  e5-logreg`, gold baselines `massive10.sw.gold.e5-logreg`), with what MLflow does not accept in a
  name replaced by `_`. One run with prefixed names rather than a child run per row: a grid has
  hundreds of rows, and one run keeps a benchmark one line of MLflow's run table, comparable with
  another benchmark's run side by side, logged in a few batched requests; MLflow's UI groups the
  charts by the prefix before the slash, so each row still gets its own section. The metrics:
  `macro_f1` (mean, in [0, 1]), `macro_f1_std`, `accuracy`, `gap_to_gold_points` (gold minus
  synthetic, F1 points) where the row has a gold baseline. While the run goes, each finished
  evaluation cell logs `<row>/seed_macro_f1` and `seed_accuracy` (step: the classifier seed) and each
  generation cell `<task>.<language>.<strategy>.<model>/accepted`, `llm_calls`, `seconds` (step:
  the replicate).
- artifacts: leaderboard.json and report.md.

The run goes to the experiment `$MLFLOW_EXPERIMENT_NAME`, else `lowres-bench/<suite>`; with no URI,
to MLflow's own choice (`$MLFLOW_TRACKING_URI`, else its default store in the working directory).
An HTTP server is checked reachable before anything else, so a wrong address or a server that is
down costs seconds, not MLflow's minutes of retries; later requests retry twice at most, unless the
MLflow HTTP variables are set.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.api import CellSaved, Leaderboard, Tracker

#: MLflow's HTTP settings while the tracker starts (fail fast) and afterwards (a short outage is
#: retried, a long one gives up in about a minute); a variable the user set is left as it is
START_HTTP = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
HTTP = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
CONNECT_TIMEOUT = 5.0
#: MLflow's limits (mlflow.utils.validation), where the installed version does not say
PARAM_VALUE_LIMIT = 500
KEY_LIMIT = 250
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000


@contextlib.contextmanager
def http_limits(values: Mapping[str, str]) -> Iterator[None]:
    """MLflow reads its HTTP settings from the environment at each request: set the ones the user
    has not, for the duration of a call, and put everything back after."""
    added = [k for k in values if k not in os.environ]
    os.environ.update({k: values[k] for k in added})
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def check_reachable(uri: str) -> None:
    """An http(s) tracking server must accept a connection within seconds: a closed port or a wrong
    host fails here at once, instead of in MLflow's retries."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ConnectionError(f"cannot reach the MLflow server at {uri}: {exc.strerror or exc}") from None


def safe(part: str) -> str:
    """A piece of a param or metric name as MLflow accepts it on every platform (letters, digits,
    `_ . - ` and space): anything else, `+ : / @` among them, becomes `_`."""
    return re.sub(r"[^\w.\- ]", "_", part, flags=re.ASCII) or "_"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested settings as `a.b.c` -> text: strings as they are, anything else as JSON."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = prefix + safe(str(key))
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return out


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _limit(name: str, default: int) -> int:
    try:
        from mlflow.utils import validation

        return int(getattr(validation, name, default))
    except Exception:  # a version that moved it: the smallest limit MLflow ever had
        return default


class MlflowTracker(Tracker):
    """Logs a run to MLflow: its settings as params, one metric set per leaderboard row, the
    leaderboard and the markdown report as artifacts (module docstring: names and why)."""

    name = "mlflow"
    description = "MLflow: settings as params, one metric set per leaderboard row, leaderboard and report as artifacts"

    def start(self, settings: dict[str, Any], uri: str | None) -> None:
        self.keys: dict[str, tuple[str, ...]] = {}
        self.run_id: str | None = None
        if uri or os.environ.get("MLFLOW_TRACKING_URI"):
            check_reachable(uri or os.environ["MLFLOW_TRACKING_URI"])
        try:
            from mlflow import MlflowClient
        except ImportError:
            raise RuntimeError("mlflow is not installed: pip install -e '.[tracking]' (or pip install mlflow)") from None
        with http_limits(START_HTTP):
            self.client = MlflowClient(tracking_uri=uri)  # None: $MLFLOW_TRACKING_URI, else MLflow's default
            experiment = self._experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"lowres-bench/{settings['suite']}")
            tags = {"bench.suite": settings["suite"], "bench.settings_hash": settings["settings_hash"],
                    "bench.plan_hash": settings["plan_hash"], "bench.out": settings["out"]}
            if settings.get("shard"):
                tags["bench.shard"] = settings["shard"]
            run = self.client.create_run(experiment, run_name=Path(settings["out"]).name, tags=tags)
        self.run_id = run.info.run_id
        limit = _limit("MAX_PARAM_VAL_LENGTH", PARAM_VALUE_LIMIT)
        self._log(params={cut(k, KEY_LIMIT): cut(v, limit) for k, v in flatten(settings).items()})

    def _experiment(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is None:
            try:
                return self.client.create_experiment(name)
            except Exception:  # another shard created it meanwhile
                found = self.client.get_experiment_by_name(name)
                if found is None:
                    raise
        if found.lifecycle_stage == "deleted":
            raise RuntimeError(f"the MLflow experiment {name!r} is deleted: restore it, or name another with "
                               "MLFLOW_EXPERIMENT_NAME")
        return found.experiment_id

    def key(self, *parts: str) -> str:
        """The metric prefix of a row (or a generation cell): its names joined by dots, made safe; two
        rows that would share one (names that differ only in unsafe characters) are told apart by a digest."""
        named = tuple(p for p in parts if p)
        key = cut(".".join(safe(p) for p in named), 200)
        if self.keys.setdefault(key, named) != named:
            key = f"{key}_{hashlib.sha256(repr(named).encode()).hexdigest()[:8]}"
            self.keys[key] = named
        return key

    def cell(self, record: CellSaved) -> None:
        if record.kind == "generation":
            key, stats = self.key(record.task, record.language, record.strategy, record.model), record.stats
            self._log(metrics=[(f"{key}/{name}", value, record.replicate)
                               for name, value in (("accepted", stats.accepted), ("llm_calls", stats.llm_calls),
                                                   ("seconds", stats.seconds)) if value is not None])
            return
        key = self.key(record.task, record.language, record.strategy, record.model, record.classifier)
        self._log(metrics=[(f"{key}/seed_{name}", value, row.seed)
                           for row in record.per_seed for name, value in (("macro_f1", row.macro_f1),
                                                                          ("accuracy", row.accuracy))])

    def finish(self, leaderboard: Leaderboard, files: dict[str, Path]) -> None:
        try:
            self._log(metrics=[(name, value, 0) for name, value in self.row_metrics(leaderboard).items()])
            with http_limits(HTTP):
                for path in files.values():
                    self.client.log_artifact(self.run_id, str(path))
                self.client.set_terminated(self.run_id, "FINISHED")
        except BaseException:
            self._end("FAILED", "the results could not all be logged")
            raise

    def abort(self, reason: str) -> None:
        self._end("KILLED" if reason == "interrupted" else "FAILED", reason)

    def row_metrics(self, board: Leaderboard) -> dict[str, float]:
        """`<row>/<metric>` -> value for every result and gold row that has scores."""
        out: dict[str, float] = {}
        for row in [*board.results, *board.gold]:
            key = self.key(*row.key)
            if row.scores is not None:
                out[f"{key}/macro_f1"] = row.scores.macro_f1.mean
                out[f"{key}/accuracy"] = row.scores.accuracy.mean
                if row.scores.macro_f1.std is not None:
                    out[f"{key}/macro_f1_std"] = row.scores.macro_f1.std
            gap = getattr(row, "gap_to_gold", None)
            if gap is not None:
                out[f"{key}/gap_to_gold_points"] = gap.points.mean
        return out

    def _end(self, status: str, reason: str) -> None:
        """Close the MLflow run as failed or killed, best effort: the tracker is failing already."""
        if self.run_id is None:
            return
        with contextlib.suppress(Exception), http_limits(START_HTTP):
            self.client.set_tag(self.run_id, "bench.error", cut(reason, 5000))
            self.client.set_terminated(self.run_id, status)

    def _log(self, metrics: Sequence[tuple[str, float, int]] = (), params: Mapping[str, str] | None = None) -> None:
        """Params and metrics in as few requests as MLflow's batch limits allow."""
        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        entities = [Param(k, v) for k, v in (params or {}).items()]
        points = [Metric(k, float(v), now, int(step)) for k, v, step in metrics]
        with http_limits(HTTP):
            for i in range(0, len(entities), PARAMS_PER_BATCH):
                self.client.log_batch(self.run_id, params=entities[i:i + PARAMS_PER_BATCH])
            for i in range(0, len(points), METRICS_PER_BATCH):
                self.client.log_batch(self.run_id, metrics=points[i:i + METRICS_PER_BATCH])
