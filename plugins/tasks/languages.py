"""The paper's eleven languages, with every code the datasets and users know them by."""

from __future__ import annotations

from harness.api import Language

# code, English name, ISO 639-3 + script, tier (as in the paper), MASSIVE locale, FLORES code
_TABLE = [
    ("en", "English", "eng_Latn", "high", "en-US", "eng_Latn"),
    ("de", "German", "deu_Latn", "high", "de-DE", "deu_Latn"),
    ("th", "Thai", "tha_Thai", "high", "th-TH", "tha_Thai"),
    ("he", "Hebrew", "heb_Hebr", "high", "he-IL", "heb_Hebr"),
    ("id", "Indonesian", "ind_Latn", "high", "id-ID", "ind_Latn"),
    ("sw", "Swahili", "swh_Latn", "high", "sw-KE", "swh_Latn"),
    ("ro", "Romanian", "ron_Latn", "low", "ro-RO", "ron_Latn"),
    ("az", "Azerbaijani", "azj_Latn", "low", "az-AZ", "azj_Latn"),
    ("sl", "Slovenian", "slv_Latn", "low", "sl-SL", "slv_Latn"),
    ("te", "Telugu", "tel_Telu", "low", "te-IN", "tel_Telu"),
    ("cy", "Welsh", "cym_Latn", "low", "cy-GB", "cym_Latn"),
]

CODES = [row[0] for row in _TABLE]


def language(code: str, dataset: str) -> Language:
    """The language with the dataset's own code: `massive` (locale) or `flores`."""
    for c, name, iso, tier, locale, flores in _TABLE:
        if c == code:
            return Language(code=c, name=name, iso=iso, tier=tier, dataset_code=locale if dataset == "massive" else flores)
    raise KeyError(code)
