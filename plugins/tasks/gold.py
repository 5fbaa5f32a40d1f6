"""The paper's three tasks over the real gold data: MASSIVE-10 intent, SIB-200 topic, sentiment."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.types import Example, Language, Split, Task
from plugins.tasks import files
from plugins.tasks.languages import CODES, language

KINIT_HOW = ("the offline copy comes from kinit-sk/multilingual-classifiers-not-generators (see shared/data/SOURCES.md); "
             "point --data-dir at the folder holding kinit/")


class _CachedTask(Task):
    """Loads each (language, split) once per process; the files are small but read by many cells."""

    def load(self, language: str, split: Split) -> list[Example]:
        if language not in self.languages():
            raise DataError(f"task {self.name} has no language {language!r}")
        why = self.unavailable(language, split)
        if why:
            raise DataError(f"{self.name}/{language} {split}: {why}")
        return list(self._load(language, split, str(files.data_dir())))

    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:  # pragma: no cover
        raise NotImplementedError


class Massive10(_CachedTask):
    name = "massive10"
    labels = ("alarm_query", "audio_volume_down", "calendar_remove", "cooking_recipe", "datetime_convert",
              "email_sendemail", "play_audiobook", "recommendation_movies", "transport_ticket", "weather_query")
    description = ("Intent classification of short requests a user says to a voice assistant "
                   "(10 intents of the MASSIVE dataset).")
    text_kind = "requests that a user says to a voice assistant"

    def __init__(self) -> None:
        self._langs = {c: language(c, "massive") for c in CODES}

    def languages(self) -> Mapping[str, Language]:
        return self._langs

    def unavailable(self, language: str, split: Split) -> str | None:
        return None

    @lru_cache(maxsize=64)  # noqa: B019 - tasks live as long as the process
    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:
        name = f"{language}-train_human_parsed.csv" if split == "train" else f"{language}-test.csv"
        path = files.require(Path(root) / "kinit" / "intent" / name, KINIT_HOW)
        # the train copy is shuffled; MASSIVE utterance ids give back the original order
        return tuple(files.read_rows(path, "text", "intent", self.labels, order_col="id" if split == "train" else None))


class Sentiment(_CachedTask):
    name = "sentiment"
    labels = ("negative", "positive")
    description = "Binary sentiment classification of short social-media posts and reviews."
    text_kind = "short social-media posts or product reviews"
    _NO_DATA = {"cy": "Welsh has no sentiment data in the gold sources (shared/data/SOURCES.md)"}
    _NO_TRAIN = {"sl": "Slovenian sentiment has a test set but no gold train split"}

    def __init__(self) -> None:
        self._langs = {c: language(c, "flores") for c in CODES}

    def languages(self) -> Mapping[str, Language]:
        return self._langs

    def unavailable(self, language: str, split: Split) -> str | None:
        if language in self._NO_DATA:
            return self._NO_DATA[language]
        if split == "train" and language in self._NO_TRAIN:
            return self._NO_TRAIN[language]
        return None

    @lru_cache(maxsize=64)  # noqa: B019
    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:
        name = f"{language}-train_human_parsed.csv" if split == "train" else f"{language}-test.csv"
        path = files.require(Path(root) / "kinit" / "sentiment" / name, KINIT_HOW)
        return tuple(files.read_rows(path, "text", "intent", self.labels, order_col="id" if split == "train" else None))


class Sib200(_CachedTask):
    name = "sib200"
    labels = ("science/technology", "travel", "politics", "sports", "health", "entertainment", "geography")
    description = "Topic classification of sentences from Wikipedia-style articles (SIB-200, built on FLORES-200)."
    text_kind = "sentences from encyclopedia or news articles"

    def __init__(self) -> None:
        self._langs: dict[str, Language] = {c: language(c, "flores") for c in CODES}

    def languages(self) -> Mapping[str, Language]:
        return self._langs

    def unavailable(self, language: str, split: Split) -> str | None:
        return None

    def add_language(self, language: Language, **options: Any) -> None:
        """Any of SIB-200's 205 FLORES codes: the files are the same shape for all of them."""
        if language.code in self._langs:
            raise ValueError(f"sib200 already has a language {language.code!r}")
        if not language.dataset_code:
            language = Language(language.code, language.name, language.iso, language.tier, language.iso)
        self._langs[language.code] = language

    @lru_cache(maxsize=256)  # noqa: B019
    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:
        flores = self._langs[language].dataset_code
        folder = Path(root) / "sib200" / "annotated" / flores
        path = files.require(folder / f"{split}.tsv",
                             f"SIB-200 files come from dadelani/sib-200 data/annotated/{flores}/ (see shared/data/SOURCES.md)")
        return tuple(files.read_rows(path, "text", "category", self.labels, delimiter="\t"))
