"""What a generation was made with, for the cache key and the results' provenance.

Every engine describes itself with one dict of the same shape (`engine_identity`): the backend and
its library version, the dtype, the kind of device (cpu, cuda, ...; never its index), the
quantization and the weights. The cache key is derived from a digest of that dict, so two engines,
two precisions or two weights revisions never share a cached generation, while the same engine with
the same settings keeps hitting its entries.

Weights are named by where they came from: a hub repository and its resolved commit (a local
snapshot in the Hugging Face cache counts as that repository at the snapshot's commit), a content
hash for any other local directory, or a package digest for a provisioned model. A hub id whose
commit cannot be resolved (offline, not in the local cache) is recorded as "unresolved", with one
warning, rather than as a branch name that could stand for any commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

UNRESOLVED = "unresolved"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_warned: set[str] = set()


def engine_identity(backend: str, backend_version: str | None, dtype: str | None, device_kind: str | None,
                    quantization: Any, weights: Mapping[str, Any]) -> dict[str, Any]:
    """The identity dict every engine returns; JSON-safe, so that its digest is stable."""
    return json.loads(json.dumps({
        "backend": backend, "backend_version": backend_version, "dtype": dtype, "device_kind": device_kind,
        "quantization": quantization or None, "weights": dict(weights),
    }, sort_keys=True, default=str))


def device_kind(device: str) -> str:
    """`cuda:1` -> `cuda`: the kind of device changes the numbers, its index does not."""
    return str(device).split(":", 1)[0] or "cpu"


def quantization_of(config: Any) -> dict[str, Any] | None:
    """The `quantization_config` of a model config (object, dict or a local directory's
    config.json), or None for unquantized weights."""
    if isinstance(config, (str, Path)):
        path = Path(config) / "config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    q = config.get("quantization_config") if isinstance(config, Mapping) else getattr(config, "quantization_config", None)
    if q is None:
        return None
    if hasattr(q, "to_dict"):
        q = q.to_dict()
    return json.loads(json.dumps(q, sort_keys=True, default=str)) if q else None


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, stacklevel=3)


def snapshot_of(path: Path) -> tuple[str, str] | None:
    """(repo id, commit) when `path` is a snapshot directory of the Hugging Face cache
    (`.../models--org--name/snapshots/<commit>`), else None."""
    path = path.resolve() if path.is_symlink() else path
    if path.parent.name != "snapshots" or not _COMMIT.match(path.name):
        return None
    repo_dir = path.parent.parent.name
    if not repo_dir.startswith("models--"):
        return None
    return repo_dir[len("models--"):].replace("--", "/"), path.name


def resolve_commit(repo_id: str, revision: str | None = None) -> str | None:
    """The commit a hub revision (default `main`) points at: the revision itself when it is a commit,
    else the local Hugging Face cache, else (only when online) the hub; None when none can tell."""
    if revision and _COMMIT.match(revision):
        return revision
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        cached = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    except Exception:  # a malformed id, an unreadable cache: not resolvable here
        cached = None
    if isinstance(cached, str):
        found = snapshot_of(Path(cached).parent)
        if found:
            return found[1]
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return None
    try:
        from huggingface_hub import model_info

        return model_info(repo_id, revision=revision, timeout=10).sha
    except Exception:  # offline, private, unknown: recorded as unresolved, never fails the run
        return None


def weights_fingerprint(path: Path) -> str:
    """Cheap but content-based identity for a local model directory: config, tokenizer and, per
    weight file, its size and a hash of its first and last 4 MiB."""
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".model", ".gguf"}:
            h.update(f.name.encode())
            size = f.stat().st_size
            h.update(str(size).encode())
            with open(f, "rb") as fh:
                h.update(fh.read(4 << 20))
                if size > 8 << 20:
                    fh.seek(-(4 << 20), os.SEEK_END)
                    h.update(fh.read())
    return h.hexdigest()[:16]


def weights_identity(name_or_path: str, revision: str | None = None, commit: str | None = None) -> dict[str, Any]:
    """Where the weights came from. `commit` is one the loader already resolved (transformers
    reports it in `config._commit_hash`)."""
    local = Path(name_or_path)
    if local.is_dir():
        snap = snapshot_of(local)
        if snap:
            return {"source": "hub", "repo": snap[0], "commit": snap[1]}
        return {"source": "local", "name": local.name, "hash": weights_fingerprint(local)}
    commit = commit if commit and _COMMIT.match(commit) else resolve_commit(name_or_path, revision)
    if commit is None:
        _warn_once(name_or_path, f"cannot resolve the commit of {name_or_path!r}"
                   f"{f' at {revision!r}' if revision else ''} (offline and not in the local Hugging Face cache): "
                   f"its cached generations are recorded as weights revision {UNRESOLVED!r}")
        return {"source": "hub", "repo": name_or_path, "revision": revision, "commit": UNRESOLVED}
    return {"source": "hub", "repo": name_or_path, "commit": commit}


def identity_label(identity: Mapping[str, Any]) -> str:
    """A short readable name for an identity (the cache's `model` column, log lines)."""
    w = identity.get("weights", {})
    name = w.get("repo") or w.get("name") or w.get("model") or "?"
    ver = w.get("commit") or w.get("hash") or w.get("sha256") or w.get("host") or "?"
    return f"{identity.get('backend')}:{name}@{str(ver)[:16]}/{identity.get('dtype')}/{identity.get('device_kind')}"
