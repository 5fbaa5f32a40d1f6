"""The offline model's tokenizer is read out of its GGUF file by transformers, which some versions get
wrong; a conversion is checked against Gemma 3's own ids for a probe before a model uses it."""

import pytest

from harness.errors import BenchError
from plugins.models import offline


class ReadTokenizer:
    """What transformers hands back: ids for the probe, and the BOS switch of a fast tokenizer."""

    def __init__(self, ids):
        self.ids, self.add_bos_token = list(ids), False

    def __call__(self, text):
        assert text == offline.PROBE
        return {"input_ids": ([2] if self.add_bos_token else []) + self.ids}


def test_a_right_tokenizer_is_kept_as_it_is():
    tok = ReadTokenizer(offline.PROBE_IDS)
    assert offline.repaired_tokenizer(tok) is tok and not tok.add_bos_token


def test_a_tokenizer_read_without_its_bos_gets_it_back():
    tok = offline.repaired_tokenizer(ReadTokenizer(offline.PROBE_IDS[1:]))
    assert tok.add_bos_token and offline.tokenizer_problem(tok) is None


def test_other_ids_are_refused_with_the_version_to_install():
    char_level = [236788, 236781, 236746, 236757, 236758, 236752]  # what transformers 5.17 gave on a GPU machine
    with pytest.raises(BenchError, match=r"transformers \S+ reads the tokenizer of gemma-3-270m's GGUF file wrongly: "
                                         r"it encodes .* as \[236788, .*install transformers>=5.23"):
        offline.repaired_tokenizer(ReadTokenizer(char_level))


def test_a_converted_folder_with_a_wrong_tokenizer_is_named_with_the_fix(tiny_model):
    with pytest.raises(BenchError, match=rf"the converted gemma-3-270m in {tiny_model} has a wrong tokenizer .*"
                                         "delete that folder and run again"):
        offline.check_converted(tiny_model)
    assert not (tiny_model / offline.CHECKED).exists()


def test_a_folder_marked_by_its_conversion_is_not_read_again(tiny_model, tmp_path):
    """The mark is what a conversion writes once its tokenizer passed; loading then costs no re-check."""
    import shutil

    marked = shutil.copytree(tiny_model, tmp_path / "marked")
    offline.mark_checked(marked)
    offline.check_converted(marked)  # the tiny tokenizer would fail the probe: it is not read
