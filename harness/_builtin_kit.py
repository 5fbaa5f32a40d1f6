"""Helpers the built-in plugins share: not the public interface (harness.api is).

The built-in tasks read gold files with these readers, the built-in engines name their weights and
device with these identity helpers, and the offline models and encoders are provisioned once per
cache. They change with the built-in plugins; a third-party plugin may use them, knowing that.
"""

from __future__ import annotations

from harness.kits.engines.identity import (
    device_kind,
    engine_identity,
    identity_label,
    quantization_of,
    weights_identity,
)
from harness.kits.engines.prompt_ids import context_overflow, prompt_ids
from harness.kits.engines.transformers import quiet_transformers
from harness.kits.tasks.files import gold_root, read_header, read_rows, require_file
from harness.store.cache import default_cache_dir, provision_once
from harness.store.rundir import write_json

__all__ = [
    # gold files (plugins/tasks)
    "gold_root", "read_header", "read_rows", "require_file",
    # engines: identity, prompts, quiet loading (plugins/models, plugins/classifiers)
    "context_overflow", "device_kind", "engine_identity", "identity_label", "prompt_ids", "quantization_of",
    "quiet_transformers", "weights_identity",
    # files provisioned once per cache (the offline models and encoders)
    "default_cache_dir", "provision_once", "write_json",
]
