"""Tasks, and languages of other tasks, read from Hugging Face hub datasets through `datasets`.

    HubTask(name="german-sentiment", labels=("negative", "positive"), description="...",
            dataset="<owner>/<name>", revision="<commit>", configs={"de": None},
            languages={"de": Language("de", "German", "deu_Latn", "high")})

A hub dataset moves under its name; results are only comparable when they say which commit they
were made from, so the revision is part of every cell's identity and of the results' provenance. An
unpinned revision is resolved to its commit when the hub answers, and warned about either way.

`datasets` is imported only when a split is loaded: listing, `--help` and plans without hub tasks do
not pay for it. `BENCH_HUB_DIR` points at a folder holding copies of hub dataset repositories as
`<BENCH_HUB_DIR>/<owner>/<name>` (machines without the hub, tests); the definition, revision
included, stays the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts import Example, Language, Split, Task
from harness.errors import DataError

#: seconds to wait for the hub when resolving an unpinned revision; a plan must not hang on it
RESOLVE_TIMEOUT = 5.0

_resolved: dict[tuple[str, str | None], str | None] = {}
_warned: set[str] = set()


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
               for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def _resolve(dataset: str, revision: str | None) -> str | None:
    """The commit of a branch or unpinned revision, or None when the hub cannot be asked."""
    key = (dataset, revision)
    if key not in _resolved:
        sha = None
        if not _offline():
            try:
                from huggingface_hub import HfApi

                sha = HfApi().dataset_info(dataset, revision=revision, timeout=RESOLVE_TIMEOUT).sha
            except Exception:  # no network, no such dataset, a hub error: stays unresolved, and says so
                sha = None
        _resolved[key] = sha
    return _resolved[key]


@dataclass(frozen=True)
class HubSource:
    """Where one language's data lives on the hub, and how its columns become examples.

    `label_map` maps the stored label (a class id or a name) to the task's label; without it a
    `ClassLabel` column gives its names and any other column is taken as is. `train_order` sorts
    the train split by an integer column, for copies that were shuffled: the gold baseline takes
    the first N per class of train, so its order is part of the data."""

    dataset: str  # hub id ("owner/name") or a local directory laid out as a hub dataset repository
    config: str | None = None
    revision: str | None = None
    data_files: str | Sequence[str] | Mapping[str, Any] | None = None
    train_split: str | None = "train"
    test_split: str | None = "test"
    text_column: str = "text"
    label_column: str = "label"
    label_map: Mapping[Any, str] | None = None
    train_order: str | None = None
    _cache: dict[tuple[str, tuple[str, ...]], list[Example]] = field(default_factory=dict, compare=False, hash=False, repr=False)

    # -- where it is read from and what it is called in results -------------------------------------
    def local_dir(self) -> Path | None:
        """The directory the data is read from, or None when it comes from the hub itself."""
        if Path(self.dataset).is_dir():
            return Path(self.dataset).resolve()
        mirror = os.environ.get("BENCH_HUB_DIR")
        if mirror and (Path(mirror) / self.dataset).is_dir():
            return (Path(mirror) / self.dataset).resolve()
        return None

    def is_local(self) -> bool:
        return Path(self.dataset).is_dir()

    def content_digest(self) -> str:
        """A local folder's identity: the digest of its files' relative paths and bytes. Moving or
        copying the folder keeps it (and so every cell id); changing a byte of its data changes it."""
        return _folder_digest(Path(self.dataset).resolve())

    def shown_path(self) -> str:
        """The folder as results show it: relative to the gold data directory or the working
        directory when inside one, else its own name; never an absolute path of this machine."""
        from harness.config import datadir

        here = Path(self.dataset).resolve()
        for root in (datadir.current(), os.environ.get("BENCH_HUB_DIR"), os.getcwd()):
            if root and Path(root).is_dir() and Path(root).resolve() in here.parents:
                return here.relative_to(Path(root).resolve()).as_posix()
        return here.name

    def commit(self) -> str | None:
        """The pinned revision, else the commit it resolves to now (warned about once per dataset)."""
        if self.is_local():
            return None  # a directory has no revision: its content is fingerprinted split by split
        if self.revision and len(self.revision) == 40 and all(c in "0123456789abcdef" for c in self.revision):
            return self.revision
        sha = _resolve(self.dataset, self.revision)
        if self.dataset not in _warned:
            _warned.add(self.dataset)
            asked = f"revision {self.revision!r}" if self.revision else "no revision"
            if sha:
                warnings.warn(f"hub dataset {self.dataset} has {asked} pinned; it resolves to commit {sha} now, "
                              f"which the results record (pin revision={sha!r} to keep it)", stacklevel=2)
            else:
                warnings.warn(f"hub dataset {self.dataset} has {asked} pinned and the hub cannot be asked (offline): "
                              "the revision stays unresolved, so the results cannot say which data they used; "
                              "pin a commit", stacklevel=2)
        return sha or self.revision

    def identity(self) -> dict[str, Any]:
        local = self.is_local()  # a directory has no revision: its content digest stands for one
        out: dict[str, Any] = {"dataset": f"local:{self.content_digest()}" if local else self.dataset,
                               "config": self.config, "revision": None if local else self.commit() or "unresolved"}
        if self.data_files is not None:
            out["data_files"] = self.data_files
        return out

    def describe(self) -> str:
        """One line for results: dataset, config and revision."""
        ident = self.identity()
        if self.is_local():
            text = f"hf:local-folder@{self.content_digest()[:16]}"  # where it sits: data_location
        else:
            text = f"hf:{ident['dataset']}@{ident['revision']}"
        if self.config:
            text += f" config={self.config}"
        if self.data_files is not None:
            text += f" data_files={json.dumps(self.data_files, sort_keys=True)}"
        return text

    def split_name(self, split: Split) -> str | None:
        return self.train_split if split == "train" else self.test_split

    # -- loading -------------------------------------------------------------------------------------
    def load(self, split: Split, labels: Sequence[str]) -> list[Example]:
        name = self.split_name(split)
        if name is None:
            raise DataError(f"hub dataset {self.dataset} has no {split} split in this definition")
        key = (name, tuple(labels))  # rows are checked against the label set of the task that reads them
        if key not in self._cache:
            self._cache[key] = self._read(name, split, labels)
        return list(self._cache[key])

    def _where(self, split_name: str, files: Sequence[str] = ()) -> str:
        where = f"hub dataset {self.dataset}" + (f" config {self.config}" if self.config else "") + f" split {split_name}"
        if len(files) == 1:
            where += f" ({files[0]})"
        return where

    def _read(self, split_name: str, split: Split, labels: Sequence[str]) -> list[Example]:
        import datasets  # here, not at import: only a hub task that loads pays for it

        from harness.store.cache import default_cache_dir

        datasets.disable_progress_bars()  # the harness reports its own progress; bars would garble its log

        local = self.local_dir()
        path = str(local) if local else self.dataset
        kwargs: dict[str, Any] = {"cache_dir": str(default_cache_dir() / "hub-datasets")}
        if not local and (revision := self.commit()):  # the commit the results name, not a branch that moves
            kwargs["revision"] = revision
        if self.data_files is not None:
            kwargs["data_files"] = self.data_files
        where = self._where(split_name)
        try:
            builder = datasets.load_dataset_builder(path, self.config, **kwargs)
            files = [str(f) for f in (builder.config.data_files or {}).get(split_name, [])]
            where = self._where(split_name, files)
            builder.download_and_prepare()
            ds = builder.as_dataset(split=split_name)
        except Exception as exc:  # the library's many error types all mean: these rows cannot be read
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{where}: cannot load ({type(exc).__name__}: {first})") from None
        return self._examples(ds, where, split, labels)

    def _examples(self, ds: Any, where: str, split: Split, labels: Sequence[str]) -> list[Example]:
        cols = [self.text_column, self.label_column] + ([self.train_order] if split == "train" and self.train_order else [])
        missing = [c for c in cols if c not in ds.column_names]
        if missing:
            raise DataError(f"{where}: missing column(s) {missing}; columns are {ds.column_names}")
        feature = ds.features[self.label_column]
        names = getattr(feature, "names", None) if self.label_map is None else None
        known = set(labels)
        rows: list[tuple[int, int, Example]] = []
        order = ds[self.train_order] if split == "train" and self.train_order else None
        for i, (text, raw) in enumerate(zip(ds[self.text_column], ds[self.label_column], strict=True)):
            row = f"{where}: row {i} (counting from 0)"
            if text is None or not str(text).strip():
                raise DataError(f"{row}: empty {self.text_column!r}")
            if raw is None:
                raise DataError(f"{row}: {self.label_column!r} is empty")
            if self.label_map is not None:
                if raw not in self.label_map:
                    raise DataError(f"{row}: {self.label_column!r} {raw!r} is not in the label map "
                                    f"{sorted(map(str, self.label_map))}")
                label = self.label_map[raw]
            elif names is not None and isinstance(raw, int):
                label = names[raw]
            else:
                label = str(raw).strip()
            if label not in known:
                raise DataError(f"{row}: {self.label_column!r} {label!r} is not in the task's label set {sorted(known)}")
            key = i
            if order is not None:
                try:
                    key = int(order[i])
                except (TypeError, ValueError):
                    raise DataError(f"{row}: {self.train_order!r} {order[i]!r} is not an integer") from None
            rows.append((key, i, Example(str(text).strip(), label)))
        if not rows:
            raise DataError(f"{where}: no rows")
        rows.sort(key=lambda t: (t[0], t[1]))
        return [e for _, _, e in rows]


class HubTask(Task):
    """A task whose languages are configs (or data files) of one hub dataset, read with `datasets`:
    `dataset` is a hub id or a local directory laid out as a hub dataset repository, `revision` the
    commit to pin, `configs` each language's config (None: the default one; or a `data_files`
    mapping), `label_map` maps stored class ids or names to the task's labels, `licence` the data's
    (hub licence id, words), which exported synthetic data made from it carries.

        HubTask(name="german-sentiment", labels=("negative", "positive"), description="Sentiment of German posts.",
                dataset="<owner>/<name>", revision="<40-character commit>", configs={"de": None},
                languages={"de": Language("de", "German", "deu_Latn", "high")},
                label_map={0: "negative", 1: "positive"})
    """

    def __init__(self, name: str, labels: Sequence[str], description: str, dataset: str,
                 languages: Mapping[str, Language], configs: Mapping[str, str | Mapping[str, Any] | None],
                 revision: str | None = None, train_split: str | None = "train", test_split: str | None = "test",
                 text_column: str = "text", label_column: str = "label", label_map: Mapping[Any, str] | None = None,
                 train_order: str | None = None, text_kind: str = "texts",
                 label_summaries: Mapping[str, str] | None = None, licence: tuple[str, str] | None = None):
        self.name = name
        self._licence = licence
        self.labels = tuple(labels)
        self.description = description
        self.text_kind = text_kind
        self.label_summaries = label_summaries
        self.dataset, self.revision = dataset, revision
        self._defaults = {"train_split": train_split, "test_split": test_split, "text_column": text_column,
                          "label_column": label_column, "label_map": label_map, "train_order": train_order}
        self._langs: dict[str, Language] = {}
        self._sources: dict[str, HubSource] = {}
        missing = sorted(set(languages) - set(configs))
        if missing:
            raise ValueError(f"hub task {name!r}: languages {missing} have no config")
        for code, lang in languages.items():
            self.add_language(lang, **_config_options(configs[code]))

    def source_for(self, config: str | None = None, data_files: Any = None) -> HubSource:
        """A source of this task's dataset and revision for one config (or set of data files)."""
        return HubSource(self.dataset, config, self.revision, data_files, **self._defaults)

    def languages(self) -> Mapping[str, Language]:
        return self._langs

    def licence(self, language: str) -> tuple[str, str]:
        return self._licence or super().licence(language)

    def add_language(self, language: Language, **options: Any) -> None:
        """Another config of the dataset (`config=` / `data_files=`), or any source (`hub=HubSource(...)`)."""
        if language.code in self._langs:
            raise ValueError(f"task {self.name} already has a language {language.code!r}")
        unknown = set(options) - {"config", "data_files", "hub"}
        if unknown:
            raise TypeError(f"hub task {self.name}: unknown language option(s) {sorted(unknown)}; "
                            "it takes config, data_files or hub")
        source = options.get("hub") or self.source_for(options.get("config"), options.get("data_files"))
        self._langs[language.code] = language
        self._sources[language.code] = source

    def unavailable(self, language: str, split: Split) -> str | None:
        if self._sources[language].split_name(split) is None:
            return f"{self.name} names no {split} split for {language}"
        return None

    def load(self, language: str, split: Split) -> list[Example]:
        if language not in self._langs:
            raise DataError(f"task {self.name} has no language {language!r}")
        why = self.unavailable(language, split)
        if why:
            raise DataError(f"{self.name}/{language} {split}: {why}")
        return self._sources[language].load(split, self.labels)

    def data_fingerprint(self) -> str:
        main = self.source_for().identity()  # a local folder by its content, so moving it keeps every cell id
        ident = {"dataset": main["dataset"], "revision": main["revision"],
                 "configs": {c: s.identity() for c, s in sorted(self._sources.items())}}
        return json.dumps(ident, sort_keys=True)

    def data_source(self, language: str) -> str:
        return self._sources[language].describe()

    def data_location(self, language: str) -> str:
        source = self._sources[language]
        return source.shown_path() if source.is_local() else ""


_digests: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def _folder_digest(folder: Path) -> str:
    """sha256 over every file under `folder` (relative path and bytes, in path order; hidden files and
    caches left out), computed once per process while no file's size or time changes."""
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts))
    stamp = tuple((p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(folder), stamp)
    if key not in _digests:
        h = hashlib.sha256()
        for p in files:
            h.update(p.relative_to(folder).as_posix().encode("utf-8") + b"\0")
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
        _digests[key] = h.hexdigest()
    return _digests[key]


def _config_options(config: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A language's entry in `configs`: a config name, data files by split, or None (the default config)."""
    if config is None or isinstance(config, str):
        return {"config": config}
    return {"data_files": dict(config)}
