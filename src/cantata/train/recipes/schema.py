"""Typed configs from plain trees: YAML mappings and ``key=value`` overrides -> dataclasses.

:func:`build` turns a mapping into a (nested) frozen dataclass, checking every value
against the field's annotation, and names any problem by its dotted key
(``"train.lr"``); :func:`set_key` applies one override with a dotted key;
:func:`parse_override` reads ``"train.lr=1e-4"``, the value as a YAML scalar or list.

Example:
    >>> from cantata.train.config import TrainConfig
    >>> build(TrainConfig, {"lr": "1e-4", "max_steps": 2}).lr
    0.0001
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

import yaml

from cantata.errors import ConfigError


def build(cls: type, data: Any, where: str = "") -> Any:
    """``cls`` built from the mapping ``data``; missing keys take the field defaults.

    Nested dataclasses are built from nested mappings, tuples from lists; numbers written
    as text (YAML reads ``1e-4`` as text) become floats where a float is asked for.

    Raises:
        ConfigError: ``data`` is not a mapping, has unknown keys (the message lists the
            known ones), a value of the wrong type, or ``cls`` rejects a value; the
            message names the dotted key.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or cls.__name__} needs a mapping, got {data!r:.80}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(_key(where, name) for name in fields)
        raise ConfigError(f"unknown key {_key(where, str(unknown[0]))}; known keys: {known}")
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(hints[name], value, _key(where, name)) for name, value in data.items()}
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}" if where else str(err)) from err
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where or cls.__name__}: {err}") from err


def set_key(tree: dict[str, Any], key: str, value: Any) -> None:
    """Set the dotted ``key`` of the nested mapping ``tree`` to ``value``, in place.

    A mapping value is merged into a mapping already there (see :func:`merge`); missing
    or None levels on the way become mappings. Unknown keys are left for :func:`build`
    to report.

    Raises:
        ConfigError: the key is empty or passes through a value that is not a mapping.
    """
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(f"bad config key {key!r}")
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{'.'.join(parts[:depth + 1])} is {child!r:.40}, not a mapping: "
                              f"cannot set {key}")
        node = child
    old = node.get(parts[-1])
    node[parts[-1]] = merge(old, value) if isinstance(old, dict) else value


def merge(base: Any, update: Any) -> Any:
    """``update`` merged into ``base``: mappings key by key, recursively; else ``update``."""
    if not (isinstance(base, Mapping) and isinstance(update, Mapping)):
        return update
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(out.get(key), value)
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """``"key=value"`` -> (key, value read as YAML: ``3``, ``1e-4``, ``[a, b]``, ``null``).

    Raises:
        ConfigError: no ``=``, or a value that is not valid YAML.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"an override is KEY=VALUE (e.g. train.lr=1e-4), got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as err:
        raise ConfigError(f"{key.strip()}: cannot read {value!r} ({err})") from err


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """``value`` as the annotation ``hint`` asks for, or ConfigError naming ``where``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, where)
            except ConfigError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        raise ConfigError(f"{where}: expected {_describe(hint)}, got {value!r:.80}")
    if origin is Literal:
        if value in args and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected one of {list(args)}, got {value!r:.80}")
    if origin is tuple or hint is tuple:
        return _coerce_tuple(args, value, where)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where)  # type: ignore[arg-type]
    return _coerce_scalar(hint, value, where)


def _coerce_tuple(args: tuple[Any, ...], value: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: expected a list, got {value!r:.80}")
    if not args:
        return tuple(value)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if len(args) != len(value):
        raise ConfigError(f"{where}: expected {len(args)} items, got {list(value)}")
    return tuple(_coerce(a, v, f"{where}[{i}]")
                 for i, (a, v) in enumerate(zip(args, value, strict=True)))


def _coerce_scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is Any:
        return value
    if hint is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, hint) and not (isinstance(value, bool) and hint is not bool):
        return value
    raise ConfigError(f"{where}: expected {_describe(hint)}, got {value!r:.80}")


def _describe(hint: Any) -> str:
    """A type annotation in words: ``int | None`` -> "an int or null"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin is tuple or hint is tuple:
        return "a list"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    names = {int: "an int", float: "a number", str: "a string", bool: "true or false",
             type(None): "null"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))
