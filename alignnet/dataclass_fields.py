"""Building dataclasses from records (JSON, config) that may hold other keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, field, fields
from typing import Any


def known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `data` that name fields of the dataclass `cls` (others, e.g. from a newer version, dropped)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def option(default: Any, help_text: str) -> Any:
    """A dataclass field whose command-line option (add_field_options) has this default and help."""
    return field(default=default, metadata={"help": help_text})


def add_field_options(add_argument: Callable[..., Any], cls: type) -> None:
    """One option --field-name for every field of the dataclass `cls` declared with `option` (a help text).

    `add_argument` is a parser's (or an argument group's) add_argument; the
    option's type is its default's type, so the default must not be None
    (ValueError naming the field).
    """
    for f in fields(cls):
        if "help" not in f.metadata:
            continue
        if f.default is None or f.default is MISSING:
            raise ValueError(f"{cls.__name__}.{f.name}: an option needs a default that gives its type")
        add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default, help=f.metadata["help"])
