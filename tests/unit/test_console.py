"""Output survives a stdout that cannot encode the report's characters."""

from __future__ import annotations

from harness.cli import console


def test_unencodable_characters_take_their_ascii_form():
    text = "2.6 ± 1.0 — ★ best; Kiswahili ≥ 3; አማርኛ"
    assert text.encode("ascii", console.ERRORS) == b"2.6 +/- 1.0 -- * best; Kiswahili >= 3; \\u12a0\\u121b\\u122d\\u129b"
    assert text.encode("latin-1", console.ERRORS).decode("latin-1").startswith("2.6 ± 1.0 -- * best")

