"""A task from a pair of CSV/TSV/JSONL files per language: how a contributor adds a new task.

    FileTask(name="news-topic", labels=("sport", "politics"), description="...",
             files={"yo": ("data/yo-train.csv", "data/yo-test.csv")},
             languages={"yo": Language("yo", "Yoruba", "yor_Latn")})

Relative paths resolve against the gold data directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.contracts import Example, Language, Split, Task
from harness.kits.tasks import files


class FileTask(Task):
    """A task read from one CSV, TSV or JSONL file pair per language (by the file's suffix): `files`
    maps each language code to `(train, test)`, a None train meaning test only (no gold baseline,
    no demonstrations); `text_column` and `label_column` name the columns (the keys, for JSONL).
    Every label in the files must be one of `labels`: another is an error naming its file and line.
    `text_kind` is how prompts call one example; `label_summaries` fixes the label summaries instead of
    having an LLM write them; `licence` is the data's (hub licence id, words), which exported synthetic
    data made from it carries. Relative paths resolve against the gold data directory.

        FileTask(name="news-topic", labels=("sport", "politics"), description="Topic of Yoruba news headlines.",
                 languages={"yo": Language("yo", "Yoruba", "yor_Latn")},
                 files={"yo": ("news/yo-train.csv", "news/yo-test.csv")})
    """

    def __init__(self, name: str, labels: Sequence[str], description: str, languages: Mapping[str, Language],
                 files: Mapping[str, tuple[str | None, str | None]], text_column: str = "text",
                 label_column: str = "label", text_kind: str = "texts",
                 label_summaries: Mapping[str, str] | None = None, licence: tuple[str, str] | None = None):
        self.name = name
        self._licence = licence
        self.labels = tuple(labels)
        self.description = description
        self.text_kind = text_kind
        self.label_summaries = label_summaries
        self._langs = dict(languages)
        self._files = {k: tuple(v) for k, v in files.items()}
        self._cols = (text_column, label_column)
        self._cache: dict[tuple[str, str], list[Example]] = {}

    def languages(self) -> Mapping[str, Language]:
        return self._langs

    def licence(self, language: str) -> tuple[str, str]:
        return self._licence or super().licence(language)

    def add_language(self, language: Language, **options: Any) -> None:
        self._langs[language.code] = language
        self._files[language.code] = (options.get("train"), options.get("test"))

    def unavailable(self, language: str, split: Split) -> str | None:
        train, test = self._files.get(language, (None, None))
        if (train if split == "train" else test) is None:
            return f"{self.name} has no {split} file for {language}"
        return None

    def _path(self, name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else files.gold_root() / p

    def load(self, language: str, split: Split) -> list[Example]:
        key = (language, split)
        if key not in self._cache:
            train, test = self._files[language]
            path = files.require_file(self._path(train if split == "train" else test), f"task {self.name} expects it")
            text, label = self._cols
            if path.suffix == ".jsonl":
                rows = files.read_jsonl(path, text, label, self.labels)
            else:
                rows = files.read_rows(path, text, label, self.labels, delimiter="\t" if path.suffix == ".tsv" else ",")
            self._cache[key] = rows
        return list(self._cache[key])
