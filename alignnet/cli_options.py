"""Command-line options written down once, as tables, and added to a parser from them."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import field, fields
from pathlib import Path
from typing import Any

# An option with a value: its argparse keywords (type or choices, default, help, ...).
Values = Mapping[str, Mapping[str, Any]]


_TYPES: dict[str, type] = {"Path": Path, "int": int, "float": float, "str": str}


def option(default: Any, help: str, **argparse_kwargs: Any) -> Any:
    """A dataclass field that is also a command-line option: its help (and choices, ...) in the metadata."""
    return field(default=default, metadata={"help": help, **argparse_kwargs})


def value_type(annotation: Any) -> type:
    """The type of an option's value from a field's annotation (a string under postponed annotations):
    int | None -> int."""
    return _TYPES[str(annotation).removesuffix(" | None")]


def field_options(cls: type, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The options (`add_options`' values) of the named fields of the dataclass `cls`, from their `option`
    metadata and defaults."""
    by_name = {f.name: f for f in fields(cls)}
    out = {}
    for name in names:
        item = by_name[name]
        kwargs = dict(item.metadata)
        kind = {} if "choices" in kwargs else {"type": value_type(item.type)}
        out[name] = {**kind, "default": item.default, **kwargs}
    return out


def flag_of(name: str) -> str:
    """The command-line flag of an option's dest: steps_per_epoch -> --steps-per-epoch."""
    return "--" + name.replace("_", "-")


def opt(kind: type | tuple[str, ...] | list[str], default: Any, help: str, **kwargs: Any) -> dict[str, Any]:
    """An option's argparse keywords: `kind` is its value's type, or the tuple of its choices."""
    return {"choices" if isinstance(kind, tuple | list) else "type": kind, "default": default, "help": help, **kwargs}


def add_options(group: argparse._ActionsContainer, switches: Mapping[str, str], values: Values) -> None:
    """Add `switches` (dest -> help of an on/off --flag) and `values` (dest -> argparse keywords) to `group`."""
    for name, text in switches.items():
        group.add_argument(flag_of(name), action="store_true", help=text)
    for name, kwargs in values.items():
        group.add_argument(flag_of(name), **kwargs)
