"""The leaderboard names the CPU it was made on, and `bench compare` says when two differ."""

from boards import leaderboard

from harness.environment import cpu
from harness.results.compare import cpu_note, machine


def board(**manifest):
    return leaderboard(manifest)


AMD = {"model": "AMD EPYC", "vendor": "AuthenticAMD", "isa": ["avx2", "fma"], "blas": ["openblas 0.3.30 Haswell"]}
INTEL = {"model": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "vendor": "GenuineIntel",
         "isa": ["avx2", "fma", "avx512f"], "blas": ["openblas 0.3.30 SkylakeX"]}


def test_cpu_names_model_vendor_and_kernels():
    info = cpu()
    assert info["model"] and "isa" in info and isinstance(info["blas"], list)
    assert info["vendor"] in ("AuthenticAMD", "GenuineIntel", None) or isinstance(info["vendor"], str)


def test_same_cpu_no_note():
    assert cpu_note(board(cpu=AMD), board(cpu=AMD)) is None
    # a baseline from before `cpu` was recorded: its device line names the same model
    assert cpu_note(board(cpu=AMD), board()) is None


def test_other_vendor_is_noted():
    note = cpu_note(board(device="cpu: Intel Xeon (2 cores)", cpu=INTEL), board(cpu=AMD))
    assert note and "AMD EPYC (AuthenticAMD; avx2, fma)" in note and "GenuineIntel" in note
    assert cpu_note(board(device="cpu: Intel Xeon (2 cores)"), board()) is not None
    assert machine(board()) == "AMD EPYC"


def test_same_model_other_instruction_sets_is_noted():
    assert cpu_note(board(cpu={**AMD, "isa": ["avx2", "fma", "avx512f"]}), board(cpu=AMD)) is not None
