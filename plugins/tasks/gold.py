"""The paper's three tasks over the real gold data: MASSIVE-10 intent, SIB-200 topic, sentiment."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness._builtin_kit import gold_root, read_header, read_rows, require_file
from harness.api import DataError, Example, HubSource, Language, Split, Task
from plugins.tasks.languages import CODES, language

KINIT_HOW = ("the offline copy comes from kinit-sk/multilingual-classifiers-not-generators (see shared/data/SOURCES.md); "
             "point --data-dir at the folder holding kinit/")


class _CachedTask(Task):
    """Loads each (language, split) once per process; the files are small but read by many cells.

    A plugin adds a language with its own data: files in the task's format (`train=` optional,
    `test=` required; relative paths resolve against the gold data directory), or a hub dataset
    (`hub=HubSource(...)`). The language then runs like a built-in one: no train, no gold baseline
    and no demonstrations, as for the built-in languages without train."""

    #: how this task's files look: delimiter, text column, label column, and the column that gives
    #: back the original order of a shuffled train file (used when the file has it)
    file_format: tuple[str, str, str, str | None] = (",", "text", "intent", "id")

    def __init__(self) -> None:
        self._langs: dict[str, Language] = {}
        self._plugin_data: dict[str, tuple[str | None, str | None, HubSource | None]] = {}  # train, test, hub
        self._plugin_rows: dict[tuple[str, str], tuple[Example, ...]] = {}

    def languages(self) -> Mapping[str, Language]:
        return self._langs

    def add_language(self, language: Language, **options: Any) -> None:
        self._add_language(language, options, required=True)

    def _add_language(self, language: Language, options: dict[str, Any], required: bool) -> bool:
        """Register a plugin language with its data; False when no data was given and `required` is
        off (SIB-200 then reads its own files under the FLORES code)."""
        if language.code in self.languages():
            raise ValueError(f"{self.name} already has a language {language.code!r}")
        unknown = set(options) - {"train", "test", "hub"}
        if unknown:
            raise TypeError(f"{self.name}: unknown language option(s) {sorted(unknown)}; it takes train and test "
                            "(files in the task's format) or hub (a HubSource)")
        hub = options.get("hub")
        if hub is None and options.get("test") is None:
            if options.get("train") is not None or required:
                raise ValueError(f"{self.name}: language {language.code!r} needs its data: test= (and optionally "
                                 "train=) files in the task's format, or hub=HubSource(...)")
            return False
        if hub is not None and ("train" in options or "test" in options):
            raise ValueError(f"{self.name}: language {language.code!r} takes files or hub=, not both")
        self._plugin_data[language.code] = (options.get("train"), options.get("test"), hub)
        self._langs[language.code] = language
        return True

    def _plugin_unavailable(self, language: str, split: Split) -> str | None:
        train, test, hub = self._plugin_data[language]
        if hub is not None:
            return None if hub.split_name(split) else f"the hub source of {language} names no {split} split"
        if (train if split == "train" else test) is None:
            return f"the plugin that added {language} gave no {split} file"
        return None

    def data_source(self, language: str) -> str:
        extra = self._plugin_data.get(language)
        return extra[2].describe() if extra and extra[2] is not None else ""

    def load(self, language: str, split: Split) -> list[Example]:
        if language not in self.languages():
            raise DataError(f"task {self.name} has no language {language!r}")
        why = self.unavailable(language, split)
        if why:
            raise DataError(f"{self.name}/{language} {split}: {why}")
        if language in self._plugin_data:
            return list(self._load_plugin(language, split))
        return list(self._load(language, split, str(gold_root())))

    def _load_plugin(self, language: str, split: Split) -> tuple[Example, ...]:
        key = (language, split)
        if key not in self._plugin_rows:
            train, test, hub = self._plugin_data[language]
            if hub is not None:
                self._plugin_rows[key] = tuple(hub.load(split, self.labels))
            else:
                name = Path(train if split == "train" else test)  # type: ignore[arg-type]
                path = require_file(name if name.is_absolute() else gold_root() / name,
                                     f"the plugin that added {self.name}/{language} names it")
                delimiter, text, label, order = self.file_format
                if split != "train" or order not in read_header(path, delimiter):
                    order = None
                self._plugin_rows[key] = tuple(read_rows(path, text, label, self.labels, delimiter=delimiter,
                                                               order_col=order))
        return self._plugin_rows[key]

    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:  # pragma: no cover
        raise NotImplementedError


class Massive10(_CachedTask):
    name = "massive10"
    labels = ("alarm_query", "audio_volume_down", "calendar_remove", "cooking_recipe", "datetime_convert",
              "email_sendemail", "play_audiobook", "recommendation_movies", "transport_ticket", "weather_query")
    description = ("Intent classification of short requests a user says to a voice assistant "
                   "(10 intents of the MASSIVE dataset).")
    text_kind = "requests that a user says to a voice assistant"

    def licence(self, language: str) -> tuple[str, str]:
        return "cc-by-4.0", "MASSIVE (Amazon), CC BY 4.0"

    def __init__(self) -> None:
        super().__init__()
        self._langs.update({c: language(c, "massive") for c in CODES})

    def unavailable(self, language: str, split: Split) -> str | None:
        return self._plugin_unavailable(language, split) if language in self._plugin_data else None

    @lru_cache(maxsize=64)  # noqa: B019 - tasks live as long as the process
    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:
        name = f"{language}-train_human_parsed.csv" if split == "train" else f"{language}-test.csv"
        path = require_file(Path(root) / "kinit" / "intent" / name, KINIT_HOW)
        # the train copy is shuffled; MASSIVE utterance ids give back the original order
        return tuple(read_rows(path, "text", "intent", self.labels, order_col="id" if split == "train" else None))


class Sentiment(_CachedTask):
    name = "sentiment"
    labels = ("negative", "positive")
    description = "Binary sentiment classification of short social-media posts and reviews."
    text_kind = "short social-media posts or product reviews"
    _NO_DATA = {"cy": "Welsh has no sentiment data in the gold sources (shared/data/SOURCES.md)"}
    _NO_TRAIN = {"sl": "Slovenian sentiment has a test set but no gold train split"}
    #: one upstream dataset per language, mostly MIT; these differ
    _LICENCES = {"az": ("cc-by-nc-sa-4.0", "DGurgurov/azerbaijani_sa, CC BY-NC-SA 4.0 (non-commercial)")}
    _LICENCE = ("mit", "the language's upstream sentiment dataset (sepidmnorozy/* or DGurgurov/*_sa), "
                       "MIT for most languages; check that dataset's card")

    def __init__(self) -> None:
        super().__init__()
        self._langs.update({c: language(c, "flores") for c in CODES})

    def unavailable(self, language: str, split: Split) -> str | None:
        if language in self._plugin_data:
            return self._plugin_unavailable(language, split)
        if language in self._NO_DATA:
            return self._NO_DATA[language]
        if split == "train" and language in self._NO_TRAIN:
            return self._NO_TRAIN[language]
        return None

    def licence(self, language: str) -> tuple[str, str]:
        return self._LICENCES.get(language, self._LICENCE)

    @lru_cache(maxsize=64)  # noqa: B019
    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:
        name = f"{language}-train_human_parsed.csv" if split == "train" else f"{language}-test.csv"
        path = require_file(Path(root) / "kinit" / "sentiment" / name, KINIT_HOW)
        return tuple(read_rows(path, "text", "intent", self.labels, order_col="id" if split == "train" else None))


class Sib200(_CachedTask):
    name = "sib200"
    labels = ("science/technology", "travel", "politics", "sports", "health", "entertainment", "geography")
    description = "Topic classification of sentences from Wikipedia-style articles (SIB-200, built on FLORES-200)."
    text_kind = "sentences from encyclopedia or news articles"

    def licence(self, language: str) -> tuple[str, str]:
        return "cc-by-sa-4.0", "SIB-200 (derived from FLORES-200), CC BY-SA 4.0"

    def __init__(self) -> None:
        super().__init__()
        self._langs.update({c: language(c, "flores") for c in CODES})

    def unavailable(self, language: str, split: Split) -> str | None:
        return self._plugin_unavailable(language, split) if language in self._plugin_data else None

    file_format = ("\t", "text", "category", None)

    def add_language(self, language: Language, **options: Any) -> None:
        """Any of SIB-200's 205 FLORES codes with no options (the files are the same shape for all of
        them), or a language of the plugin's own with its files or hub source."""
        if not options and not language.dataset_code:
            language = Language(language.code, language.name, language.iso, language.tier, language.iso)
        if not self._add_language(language, options, required=False):
            self._langs[language.code] = language

    @lru_cache(maxsize=256)  # noqa: B019
    def _load(self, language: str, split: Split, root: str) -> tuple[Example, ...]:
        flores = self._langs[language].dataset_code
        folder = Path(root) / "sib200" / "annotated" / flores
        path = require_file(folder / f"{split}.tsv",
                             f"SIB-200 files come from dadelani/sib-200 data/annotated/{flores}/ (see shared/data/SOURCES.md)")
        return tuple(read_rows(path, "text", "category", self.labels, delimiter="\t"))
