"""A persistent store for what is expensive to recompute: LLM generations and text embeddings.

SQLite in WAL mode, so several runs can share one cache file concurrently; every batch of results
is written in one transaction, so a killed run leaves either a whole batch or nothing.

WAL needs shared memory between the processes that open the file, which a network filesystem does
not give across nodes, so Ray workers never open the cache file itself: they read a snapshot of it
(`Store.snapshot`, opened immutable: no locks, no writes) through an `OverlayStore` that keeps their
new entries in memory, and hand those entries to the driver, the file's only writer (`Store.merge`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from harness.contracts import Completion, Engine, GenerationRequest, require
from harness.store.failures import corrupt, open_failure

SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, model TEXT NOT NULL, text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, created REAL NOT NULL, truncated INTEGER);
CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, encoder TEXT NOT NULL, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rates (kind TEXT NOT NULL, name TEXT NOT NULL, device TEXT NOT NULL,
    units REAL NOT NULL, seconds REAL NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (kind, name, device));
"""
#: rates: what this machine measured doing real work, summed (the dry run's cost model reads them):
#: kind "engine": units = completion tokens an engine generated; kind "classifier": units = training
#: examples fitted (count = fits). Not a cache of results: nothing is ever read back as an answer.
_ADD_RATE = ("INSERT INTO rates VALUES (?,?,?,?,?,?) ON CONFLICT (kind, name, device) DO UPDATE SET "
             "units = units + excluded.units, seconds = seconds + excluded.seconds, count = count + excluded.count")
TABLES = ("generations", "embeddings")

#: new cache rows per table, as `OverlayStore.take_new` returns them and `Store.merge` writes them
Rows = dict[str, list[tuple[Any, ...]]]


def default_cache_dir() -> Path:
    """Where the cache lives: `$BENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/lowres-bench`, else
    `~/.cache/lowres-bench`; it holds the SQLite cache and the converted offline models (`models/`).

        provision_once(default_cache_dir() / "models" / "my-model", build)
    """
    env = os.environ.get("BENCH_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lowres-bench"


def provision_once(target: Path, build: Callable[[Path], None]) -> Path:
    """A directory derived from a package (a converted model), built at most once even when
    several runs start together: `build(target)` runs under a file lock unless `target/READY`
    exists, and must write READY last, so a crash mid-build is simply rebuilt."""
    if (target / "READY").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "READY").is_file():
            build(target)
    return target


def digest(payload: Any) -> str:
    """The SHA-256 hex digest of a JSON-serialisable value, keys sorted: the same value gives the same
    digest in any process, which cache keys, cell ids and seeds rely on.

        digest(["demos", 0, "massive10", "sw"])[:16]
    """
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Store:
    """The SQLite cache file. Open one per process; it is safe to share the file between processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout=60000")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            ok = self.db.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise corrupt(self.path, ok)
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(generations)")}
            if "truncated" not in columns:  # a cache file without the column gets it
                self.db.execute("ALTER TABLE generations ADD COLUMN truncated INTEGER")
        except sqlite3.DatabaseError as exc:
            raise open_failure(self.path, exc) from exc

    # -- generations ---------------------------------------------------------------------------
    def get_generations(self, keys: Sequence[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT key, text, prompt_tokens, completion_tokens, truncated FROM generations WHERE key IN ({marks})",
                chunk,
            )
            for key, text, pt, ct, tr in rows:
                found[key] = Completion(text, pt, ct, None if tr is None else bool(tr))
        return found

    def put_generations(self, model: str, items: Sequence[tuple[str, Completion]]) -> None:
        now = time.time()
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO generations VALUES (?,?,?,?,?,?,?)",
                [(k, model, c.text, c.prompt_tokens, c.completion_tokens, now,
                  None if c.truncated is None else int(c.truncated)) for k, c in items],
            )

    # -- embeddings ----------------------------------------------------------------------------
    def get_embeddings(self, encoder: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        keys = {digest([encoder, t]): t for t in texts}
        found: dict[str, np.ndarray] = {}
        items = list(keys)
        for i in range(0, len(items), 500):
            chunk = items[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.db.execute(f"SELECT key, vec FROM embeddings WHERE key IN ({marks})", chunk):
                found[keys[key]] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_embeddings(self, encoder: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(digest([encoder, t]), encoder, np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?)", rows)

    # -- measured rates ------------------------------------------------------------------------
    def add_rate(self, kind: str, name: str, device: str, units: float, seconds: float, count: int = 1) -> None:
        """Add real work done here (`units` in `seconds`) to what was measured before for it."""
        if seconds > 0 and units > 0:
            self.db.execute(_ADD_RATE, (kind, name, device, float(units), float(seconds), int(count)))

    def rates(self) -> dict[tuple[str, str, str], tuple[float, float, int]]:
        """(kind, name, device) -> (units, seconds, count), summed over every run that used this cache."""
        try:
            rows = self.db.execute("SELECT kind, name, device, units, seconds, count FROM rates").fetchall()
        except sqlite3.OperationalError:  # a snapshot of a cache from before rates were kept
            return {}
        return {(k, n, d): (u, s, c) for k, n, d, u, s, c in rows}

    def _transaction(self):
        db = self.db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                db.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    # -- copies for other processes ------------------------------------------------------------
    def snapshot(self, dest: Path) -> Path:
        """A consistent copy of the cache at `dest` in rollback-journal mode, safe to open read-only
        with `Store.read_only` from any node (a WAL file needs the writer's shared memory)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.unlink(missing_ok=True)
        copy = sqlite3.connect(str(tmp))
        try:
            self.db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
        os.replace(tmp, dest)
        return dest

    @classmethod
    def in_memory(cls) -> Store:
        """A cache that lives as long as the object and touches no file: a strategy's context outside
        a run (`harness.api.standalone_context`) caches as a run does without leaving a cache behind."""
        store = cls.__new__(cls)
        store.path = Path(":memory:")
        store.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store.db.executescript(SCHEMA)
        return store

    @classmethod
    def read_only(cls, path: str | Path) -> Store:
        """A file nobody writes any more (a snapshot), opened immutable: SQLite takes no lock and
        keeps no journal, which is what makes reading it from many nodes of a network filesystem safe."""
        store = cls.__new__(cls)
        store.path = Path(path)
        store.db = sqlite3.connect(Path(path).resolve().as_uri() + "?immutable=1", uri=True, check_same_thread=False)
        return store

    def merge(self, rows: Rows) -> int:
        """Write rows another process took from its `OverlayStore` (one transaction); returns how many."""
        count = 0
        with self._transaction():
            for table in TABLES:
                items = rows.get(table) or []
                if items:
                    marks = ",".join("?" * len(items[0]))
                    self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", items)
                    count += len(items)
            self.db.executemany(_ADD_RATE, rows.get("rates") or [])  # a worker's measurements add up
        return count

    def close(self) -> None:
        self.db.close()


class OverlayStore(Store):
    """A worker's cache: reads its own new entries, then a read-only snapshot of the shared cache;
    writes go to memory only, and `take_new` hands them over for the driver to merge. Nothing on
    the shared filesystem is written, so any number of workers on any nodes can use one snapshot.
    `path` stays the shared cache file's (classifiers keep converted models in its directory)."""

    def __init__(self, path: str | Path, base: str | Path | None):
        self.path = Path(path)
        self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self.base = Store.read_only(base) if base is not None and Path(base).is_file() else None
        self._taken = dict.fromkeys(TABLES, 0)

    def get_generations(self, keys: Sequence[str]) -> dict[str, Completion]:
        found = super().get_generations(keys)
        if self.base is not None and len(found) < len(keys):
            found.update(self.base.get_generations([k for k in keys if k not in found]))
        return found

    def get_embeddings(self, encoder: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found = super().get_embeddings(encoder, texts)
        if self.base is not None and len(found) < len(set(texts)):
            found.update(self.base.get_embeddings(encoder, [t for t in texts if t not in found]))
        return found

    def take_new(self) -> Rows:
        """The rows written since the last call (a rewritten key gets a new rowid, so it comes again)."""
        rows: Rows = {}
        for table in TABLES:
            got = self.db.execute(f"SELECT rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid",
                                  (self._taken[table],)).fetchall()
            if got:
                self._taken[table] = got[-1][0]
                rows[table] = [tuple(r[1:]) for r in got]
        if measured := self.db.execute("SELECT * FROM rates").fetchall():  # handed over once: the driver sums
            rows["rates"] = [tuple(r) for r in measured]
            self.db.execute("DELETE FROM rates")
        return rows

    def close(self) -> None:
        self.db.close()
        if self.base is not None:
            self.base.close()


_COUNTERS = ("llm_calls", "engine_calls", "prompt_tokens", "completion_tokens", "engine_seconds")


class CachedEngine:
    """An engine behind the cache: the `GenerationEngine` (harness.contracts) every strategy is given.
    Requests are grouped into fixed batches of the engine's size in the order given; a batch is
    generated (and stored) whole, so a resumed run asks the engine for exactly the batches a cold run
    would have, and gets the same text."""

    def __init__(self, engine: Engine, store: Store, name: str):
        require(engine, Engine, f"the engine of model {name}")
        self.engine = engine
        self.store = store
        self.name = name
        self.is_chat = engine.is_chat
        #: counters per account: a cell's own work goes to "cell", work several cells share (label
        #: summaries) to "shared", so no cell's statistics depend on which cell happened to need it first
        self._counts: dict[str, dict[str, float]] = {}
        self._account = "cell"
        #: a part of an account's work counted on its own as well ("revision" of a cell's): its share
        self._phase: str | None = None
        #: called after each batch that reached the engine (requests, seconds), so the runner can keep
        #: an interrupted cell's engine work and add it to the attempt that finishes the cell
        self.on_engine_batch: Callable[[int, float], None] | None = None
        #: the engine's identity (None for one that has none) and the model part of every key: the
        #: digest of the identity, so another backend, dtype, device kind or weights never shares an entry
        self.identity: dict[str, Any] | None = engine.identity
        self.model_key = digest(self.identity) if self.identity else engine.fingerprint
        #: where its measured speed is filed: the device kind of its identity (an engine without one,
        #: such as a remote server, files it under "unknown")
        self.device_kind = str((self.identity or {}).get("device_kind") or "unknown")

    @contextmanager
    def account(self, name: str) -> Iterator[None]:
        """Count what is generated inside the block under `name` instead of the current account."""
        previous, self._account = self._account, name
        try:
            yield
        finally:
            self._account = previous

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Count what is generated inside the block in the current account, and also under
        `<account>/<name>`, so a cell's statistics can say what share of its cost that phase was."""
        previous, self._phase = self._phase, name
        try:
            yield
        finally:
            self._phase = previous

    def _add(self, key: str, value: float) -> None:
        for account in (self._account, f"{self._account}/{self._phase}" if self._phase else None):
            if account is not None:
                counts = self._counts.setdefault(account, dict.fromkeys(_COUNTERS, 0))
                counts[key] += value

    def context_overflow(self, request: GenerationRequest) -> str | None:
        """The engine's answer (None: fits, or the engine cannot tell); asks no model and no cache."""
        return self.engine.context_overflow(request)

    def _keys(self, req: GenerationRequest) -> list[str]:
        base = req.key_payload()
        return [digest({"model": self.model_key, "req": base, "seed": req.seed, "sample": i}) for i in range(req.n)]

    def _batches(self, requests: Sequence[GenerationRequest]) -> list[list[int]]:
        size = max(1, int(self.engine.batch_size))
        batches: list[list[int]] = []
        current: list[int] = []
        rows = 0
        for i, req in enumerate(requests):
            if current and rows + req.n > size:
                batches.append(current)
                current, rows = [], 0
            current.append(i)
            rows += req.n
        if current:
            batches.append(current)
        return batches

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Completion]]:
        out: list[list[Completion]] = [[] for _ in requests]
        keys = [self._keys(r) for r in requests]
        for batch in self._batches(requests):
            wanted = [k for i in batch for k in keys[i]]
            found = self.store.get_generations(wanted)
            if len(found) < len(wanted):
                start = time.perf_counter()
                fresh = self.engine.generate([requests[i] for i in batch])
                seconds = time.perf_counter() - start
                self._add("engine_seconds", seconds)
                self._add("engine_calls", len(batch))
                items = []
                for i, comps in zip(batch, fresh):
                    if len(comps) != requests[i].n:
                        raise RuntimeError(f"engine {self.name} returned {len(comps)} samples for n={requests[i].n}")
                    items.extend(zip(keys[i], comps))
                self.store.put_generations(self.engine.fingerprint, items)
                self.store.add_rate("engine", self.name, self.device_kind,
                                    sum(c.completion_tokens for _, c in items), seconds, len(items))
                if self.on_engine_batch is not None and self._account == "cell":
                    self.on_engine_batch(len(batch), seconds)
                found = dict(items)
            for i in batch:
                out[i] = [found[k] for k in keys[i]]
            self._add("llm_calls", len(batch))
        for comps in out:
            for c in comps:
                self._add("prompt_tokens", c.prompt_tokens)
                self._add("completion_tokens", c.completion_tokens)
        return out

    def counters(self, account: str = "cell") -> dict[str, float]:
        """What was asked for (llm_calls, tokens: the same however often the cache answered) and what
        reached the engine (engine_calls, engine_seconds) under one account."""
        counts = self._counts.get(account, dict.fromkeys(_COUNTERS, 0))
        return {k: round(v, 3) if k == "engine_seconds" else int(v) for k, v in counts.items()}

    def close(self) -> None:
        """Free the engine's memory (the cache stays open: it is the run's)."""
        self.engine.close()
