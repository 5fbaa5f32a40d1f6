"""The gold-file reader refuses ambiguous headers and names the physical line of a bad byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import DataError
from harness.kits.tasks import files


def test_duplicate_header_is_refused(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("id,text,intent,text\n1,habari njema,1,0\n2,mbaya sana,0,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test.csv:1: column name\(s\) \['text'\] appear more than once"):
        files.read_rows(path, "text", "intent", ["0", "1"])
    with pytest.raises(DataError, match="more than once"):
        files.read_header(path)


def test_trailing_unnamed_columns_stay_allowed(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("text,label,,\nhabari,1,,\n", encoding="utf-8")
    assert [e.label for e in files.read_rows(path, "text", "label", ["1"])] == ["1"]


@pytest.mark.parametrize("bad_line", [2, 200, 740])
def test_non_utf8_byte_names_its_physical_line(tmp_path, bad_line):
    path = tmp_path / "train.csv"
    rows = [b"text,label\n"] + [b"some longer text for row %d to fill buffers,1\n" % i for i in range(2, 1000)]
    rows[bad_line - 1] = b"caf\xe9 au lait,1\n"
    path.write_bytes(b"".join(rows))
    with pytest.raises(DataError, match=rf"train.csv:{bad_line}: not valid UTF-8"):
        files.read_rows(path, "text", "label", ["1"])


_names = st.text(alphabet="abtx ,\"", min_size=0, max_size=4)


@settings(max_examples=150, deadline=None)
@given(header=st.lists(_names, min_size=1, max_size=6))
def test_header_fuzz_never_reads_an_ambiguous_column(tmp_path_factory, header):
    """For any header, the reader either refuses it in one DataError or reads exactly the column
    that is named once."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerow(header + ["text", "label"])
    csv.writer(buf).writerow(["x"] * len(header) + ["hello", "1"])
    path = tmp_path_factory.mktemp("fuzz") / "g.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    try:
        rows = files.read_rows(path, "text", "label", ["1"])
    except DataError as exc:
        assert "\n" not in str(exc)
        return
    named = [c.strip() for c in header if c.strip()]
    assert "text" not in named and "label" not in named
    assert [(e.text, e.label) for e in rows] == [("hello", "1")]
