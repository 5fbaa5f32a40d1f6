import pytest

from harness.config.suite import load_suite
from harness.errors import BenchError


def write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_default_suite_loads():
    from harness.cli.common import DEFAULT_SUITE

    s = load_suite(DEFAULT_SUITE)
    assert s.name == "default" and s.models == ["gemma-3-270m"]


def test_malformed_toml_names_file_and_line(tmp_path):
    p = write(tmp_path, '[suite]\nname = "x"\n[grid\ntasks = ["a"]\n')
    with pytest.raises(BenchError, match=r"s.toml:3: malformed TOML"):
        load_suite(p)


def test_unknown_key_suggests_and_names_line(tmp_path):
    p = write(tmp_path, '[suite]\nname = "x"\n\n[generation]\nper_clas = 10\n')
    with pytest.raises(BenchError, match=r"s.toml:5: unknown key 'per_clas' in \[generation\]; did you mean 'per_class'"):
        load_suite(p)


def test_wrong_type_names_line(tmp_path):
    p = write(tmp_path, '[grid]\ntasks = ["sib200"]\n[evaluation]\nseeds = "ten"\n')
    with pytest.raises(BenchError, match=r"s.toml:4: \[evaluation\] seeds must be"):
        load_suite(p)


def test_range_check_names_line(tmp_path):
    p = write(tmp_path, '[sampling]\ntop_p = 1.5\n')
    with pytest.raises(BenchError, match=r"s.toml:2: \[sampling\] top_p must be in"):
        load_suite(p)


def test_unknown_section(tmp_path):
    p = write(tmp_path, '[sampler]\ntop_p = 0.5\n')
    with pytest.raises(BenchError, match=r"s.toml:1: unknown section \[sampler\]; did you mean \[sampling\]"):
        load_suite(p)


def test_missing_file(tmp_path):
    with pytest.raises(BenchError, match="does not exist"):
        load_suite(tmp_path / "nope.toml")
