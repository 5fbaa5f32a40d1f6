"""Benchmark harness for LLM data-generation strategies in low-resource languages."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lowres-bench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
