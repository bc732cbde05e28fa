"""One registry from model names to classes, and self-describing checkpoints (P2, P7).

A model is an ``nn.Module`` taking one frozen config dataclass, ``Model(config)``. Its
registry name lets :func:`build` make it from a config or a plain mapping, and
:func:`load_checkpoint` rebuild it from a file holding only the name, the config dict, the
weights and JSON-like metadata (no pickled classes)::

    @register("speech-detector", DetectorConfig)
    class Detector(nn.Module): ...

    path = save_checkpoint(out_dir, build("speech-detector", {"n_mels": 64}), ...)
    model, checkpoint = load_checkpoint(path)

Registration happens on import of the module defining the model. So that checkpoints load
without the caller importing it first, :data:`MODEL_MODULES` maps known names to those
modules, which :func:`build` and :func:`load_checkpoint` import on first use of a name.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import importlib
import io
import json
import logging
import os
import pickle
import re
import subprocess
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from cantata._version import __version__
from cantata.capabilities import CAPABILITIES
from cantata.errors import ConfigError, ModelLoadError
from cantata.files import write_bytes_atomic

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the checkpoint layout written by :func:`save_checkpoint`."""

MODEL_MODULES: dict[str, str] = {
    name: module for cap in CAPABILITIES.values() for name, module in cap.networks.items()}
"""Known registry names -> the module that registers them when imported: the networks the
capability registry declares (:data:`cantata.capabilities.CAPABILITIES`). Names registered
by any other imported module (tests, plugins) work without an entry.
"""

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REQUIRED_KEYS = ("format_version", "name", "config", "state_dict", "meta")
_ModelT = TypeVar("_ModelT", bound=type[nn.Module])


@dataclass(frozen=True)
class _Entry:
    model_cls: type[nn.Module]
    config_cls: type


_REGISTRY: dict[str, _Entry] = {}


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file says about the model it holds (everything but the weights).

    Attributes:
        name: registry name of the model.
        config: the model config as a JSON-like dict (:func:`config_to_dict`).
        meta: what the caller saved, plus ``code_version``, ``git_sha`` and ``saved_at``.
        format_version: layout version of the file.
        path: the file it was read from.
    """

    name: str
    config: dict[str, Any]
    meta: dict[str, Any]
    format_version: int
    path: Path


def register(name: str, config_cls: type) -> Callable[[_ModelT], _ModelT]:
    """Class decorator: make ``Model(config)`` buildable by ``name``.

    Args:
        name: letters, digits, ``.``, ``_``, ``-`` (it becomes part of file names).
        config_cls: the frozen dataclass the model constructor takes.

    Raises:
        ValueError: ``name`` is malformed or already taken by a different class.
        TypeError: ``config_cls`` is not a frozen dataclass, or the class is not a module.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"bad model name {name!r}: use letters, digits, '.', '_' or '-'")
    if not (dataclasses.is_dataclass(config_cls) and isinstance(config_cls, type)):
        raise TypeError(f"config_cls of {name!r} must be a dataclass, got {config_cls!r}")
    if not config_cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise TypeError(f"config_cls of {name!r} must be frozen, got {config_cls!r}")

    def decorator(model_cls: _ModelT) -> _ModelT:
        if not (isinstance(model_cls, type) and issubclass(model_cls, nn.Module)):
            raise TypeError(f"@register({name!r}) needs an nn.Module subclass, got {model_cls!r}")
        old = _REGISTRY.get(name)
        # Re-registering the same class (module reload) replaces it; another class may not.
        if old is not None and _qualname(old.model_cls) != _qualname(model_cls):
            raise ValueError(f"model name {name!r} is taken by {_qualname(old.model_cls)}")
        _REGISTRY[name] = _Entry(model_cls, config_cls)
        return model_cls

    return decorator


def registered() -> list[str]:
    """Names :func:`build` accepts: registered ones plus those in :data:`MODEL_MODULES`."""
    return sorted(set(_REGISTRY) | set(MODEL_MODULES))


def resolve_config(name: str, config: Any) -> Any:
    """The config instance for model ``name``, from an instance or a mapping of its fields.

    Raises:
        ConfigError: unknown name, wrong config type, or bad mapping (see
            :func:`config_from_dict`).
    """
    entry = _entry(name)
    if isinstance(config, Mapping):
        return config_from_dict(entry.config_cls, config)
    if not isinstance(config, entry.config_cls):
        kind = entry.config_cls.__name__
        raise ConfigError(f"model {name!r} takes a {kind} or a mapping, not {config!r:.80}")
    return config


def build(name: str, config: Any) -> nn.Module:
    """A freshly initialised model ``name`` (see :func:`registered`), in training mode.

    Args:
        name: registry name.
        config: an instance of the registered config class, or a JSON-like mapping of its
            fields (missing fields take their defaults).

    Raises:
        ConfigError: unknown name, or a config that does not fit the model.
    """
    config = resolve_config(name, config)
    return _entry(name).model_cls(config)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as a JSON-like dict: nested dataclasses become dicts, tuples lists.

    Raises:
        ConfigError: ``config`` is not a dataclass instance, or holds a value that is not
            JSON-like.
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"need a config dataclass instance, got {type(config).__name__}")
    data = dataclasses.asdict(config)
    check_json_like(data, what=f"{type(config).__name__} values")
    return json.loads(json.dumps(data))  # tuples become lists, as in any JSON copy


def config_from_dict(config_cls: type, data: Mapping[str, Any]) -> Any:
    """Build ``config_cls`` from a mapping (inverse of :func:`config_to_dict`).

    Lists become tuples and mappings become nested dataclasses where the field's type
    annotation asks for them; checking the values themselves is the config class's job.

    Raises:
        ConfigError: ``data`` is not a mapping, has unknown keys, misses required ones, has
            values that are not JSON-like, or the config class rejects a value.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{config_cls.__name__} needs a mapping, got {type(data).__name__}")
    check_json_like(data, what=f"{config_cls.__name__} values")
    fields = {field.name for field in dataclasses.fields(config_cls) if field.init}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise ConfigError(f"unknown {config_cls.__name__} keys: {unknown}; known: {sorted(fields)}")
    hints = typing.get_type_hints(config_cls)
    kwargs = {
        key: _coerce(hints.get(key, Any), value, f"{config_cls.__name__}.{key}")
        for key, value in data.items()
    }
    try:
        return config_cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"bad {config_cls.__name__}: {err}") from err


def check_json_like(value: Any, *, what: str) -> None:
    """Raise ConfigError unless ``value`` is JSON-like: str-keyed dicts, lists, tuples, str,
    int, float, bool, None (what ``json.dumps`` and ``weights_only`` loading take)."""
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise ConfigError(f"{what} must have str keys, got {list(value)}")
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        items = value
    elif value is None or isinstance(value, str | bool | int | float):
        return
    else:
        raise ConfigError(f"{what} must be JSON-like, got a {type(value).__name__}: {value!r:.80}")
    for item in items:
        check_json_like(item, what=what)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    *,
    name: str,
    config: Any,
    meta: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``{"format_version": 1, "name", "config", "state_dict", "meta"}``, atomically.

    ``meta`` gains ``code_version``, ``git_sha`` (None outside a git checkout) and
    ``saved_at`` (ISO 8601, UTC).

    Args:
        path: file to write, or an existing directory: the file is then named
            ``<name>-<first 8 hex digits of the sha256 of its bytes>.pt``.
        model: the model; its weights are saved on the CPU.
        name: registry name of the model.
        config: its config (instance or mapping, as for :func:`build`).
        meta: JSON-like metadata: sample rate, feature config dict, labels, metrics...
        extra: more top-level entries (tensors, plain values), e.g. a run's optimiser state.

    Returns:
        The path written.

    Raises:
        ConfigError: unknown name, wrong config, non-JSON-like meta, or a clashing extra.
    """
    check_json_like(meta, what="checkpoint meta")
    clash = sorted(set(extra or {}) & set(_REQUIRED_KEYS))
    if clash:
        raise ConfigError(f"extra checkpoint entries may not replace {clash}")
    payload = {
        **(extra or {}),
        "format_version": FORMAT_VERSION,
        "name": name,
        "config": config_to_dict(resolve_config(name, config)),
        "state_dict": {key: t.detach().cpu() for key, t in model.state_dict().items()},
        "meta": {**meta, **_provenance()},
    }
    torch.save(payload, buffer := io.BytesIO())
    data, dest = buffer.getvalue(), Path(path)
    if dest.is_dir():
        dest = dest / f"{name}-{hashlib.sha256(data).hexdigest()[:8]}.pt"
    write_bytes_atomic(dest, data, overwrite=True)
    logger.debug("saved %s checkpoint to %s", name, dest)
    return dest


def load_checkpoint(
    path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, Checkpoint]:
    """Rebuild a model from a file written by :func:`save_checkpoint`.

    Returns:
        The model, in eval mode on ``map_location``, and what the file says about it.

    Raises:
        ModelLoadError: not a file, not a checkpoint (corrupt or not loadable with
            ``weights_only=True``), unsupported format, missing entries, unknown model
            name, bad config, or weights that do not fit the model.
    """
    path = Path(path)
    payload = read_checkpoint_payload(path, map_location=map_location)
    try:
        model = build(payload["name"], payload["config"])
    except ConfigError as err:
        raise ModelLoadError(f"{path}: {err}") from err
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as err:
        raise ModelLoadError(f"{path}: weights do not fit {payload['name']!r}: {err}") from err
    model.to(map_location).eval()
    keys = ("name", "config", "meta", "format_version")
    return model, Checkpoint(**{key: payload[key] for key in keys}, path=path)


def halve_checkpoint(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy a checkpoint with its float32 parameters stored as float16, atomically.

    Buffers (batch-norm statistics, input normalisation) keep their precision: a running
    variance can be smaller than float16 resolves. :func:`load_checkpoint` copies the
    weights back into the float32 model, so only the rounding of each weight changes
    (half the bytes; for the shipped separator, vocals SDR the same to 0.001 dB).

    Raises:
        ModelLoadError: as :func:`load_checkpoint`.
    """
    model, _ = load_checkpoint(src)
    params = {name for name, _ in model.named_parameters()}
    payload = read_checkpoint_payload(src)
    payload["state_dict"] = {
        key: t.half() if key in params and t.dtype == torch.float32 else t
        for key, t in payload["state_dict"].items()}
    torch.save(payload, buffer := io.BytesIO())
    dest = Path(dest)
    write_bytes_atomic(dest, buffer.getvalue(), overwrite=True)
    return dest


def read_checkpoint_payload(
    path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """The raw dict of a checkpoint file, with its layout checked (no model built).

    Raises:
        ModelLoadError: as :func:`load_checkpoint`, for the file and layout problems.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: not a file")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as err:
        raise ModelLoadError(f"{path}: not a readable checkpoint ({err})") from err
    if not isinstance(payload, dict):
        raise ModelLoadError(f"{path}: not a Cantata checkpoint (got a {type(payload).__name__})")
    missing = [key for key in _REQUIRED_KEYS if key not in payload]
    if missing:
        raise ModelLoadError(f"{path}: not a Cantata checkpoint, missing {missing}")
    if payload["format_version"] != FORMAT_VERSION:
        version = payload["format_version"]
        raise ModelLoadError(f"{path}: format_version {version!r} is not {FORMAT_VERSION}")
    for key, kind in (("name", str), ("config", dict), ("state_dict", dict), ("meta", dict)):
        if not isinstance(payload[key], kind):
            raise ModelLoadError(f"{path}: {key!r} must be a {kind.__name__}")
    return payload


def _entry(name: str) -> _Entry:
    """The registry entry of ``name``, importing its module from MODEL_MODULES if needed."""
    if name not in _REGISTRY and name in MODEL_MODULES:
        module = MODEL_MODULES[name]
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ConfigError(f"model {name!r}: importing {module} failed: {err}") from err
        if name not in _REGISTRY:
            raise ConfigError(f"importing {module} did not register model {name!r}")
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}; known: {registered()}")
    return _REGISTRY[name]


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Turn JSON values into what the annotation ``hint`` asks for: tuples, dataclasses."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    plain = [opt for opt in options if isinstance(opt, type) and typing.get_origin(opt) is None]
    nested = [opt for opt in plain if dataclasses.is_dataclass(opt)]
    tuples = [opt for opt in options if opt is tuple or typing.get_origin(opt) is tuple]
    if nested and isinstance(value, Mapping):
        return config_from_dict(nested[0], value)
    if tuples and isinstance(value, list | tuple):
        return _coerce_tuple(tuples[0], value, where)
    if (nested or tuples) and not any(isinstance(value, opt) for opt in plain):
        wanted = f"a mapping of {nested[0].__name__} fields" if nested else "a list"
        raise ConfigError(f"{where} needs {wanted}, got {value!r:.80}")
    return value


def _coerce_tuple(hint: Any, items: list[Any] | tuple[Any, ...], where: str) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    if not args:
        return tuple(items)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(args[0], item, where) for item in items)
    if len(args) != len(items):
        raise ConfigError(f"{where} needs {len(args)} items, got {list(items)}")
    return tuple(_coerce(arg, item, where) for arg, item in zip(args, items, strict=True))


def _provenance() -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return {"code_version": __version__, "git_sha": _git_sha(), "saved_at": now}


@functools.cache
def _git_sha() -> str | None:
    """HEAD of the git checkout holding this source file, or None (best effort)."""
    cmd = ["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", sha) else None
