"""The configuration reference page, generated from the workflow's config schema.

    python -m alignnet.config_docs > docs/config.md

Every key of workflow/schemas/config.schema.yaml, section by section, with its
type, default, allowed values and description (one table per section, the way
pypsa-eur documents its configuration). tests/test_config_docs.py regenerates
the page and compares it with the committed one, so the page follows the schema.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"
COMMAND = "python -m alignnet.config_docs > docs/config.md"

INTRO = """\
A workflow configuration is one or more YAML files. `config.yaml` (the Dance50
rebuild) is always read first (the Snakefile's `configfile:`);
`snakemake --configfile A.yaml B.yaml` lays A, then B on top of it (a key in a
later file replaces the same key of an earlier one, section by section), and
`--config key=value` goes on top of all. The result is checked
against `workflow/schemas/config.schema.yaml` before any job runs: an unknown
key or a bad value is an error that names it, and every key left out takes the
default below. Shipped files: `config.yaml` (Dance50), `config/demo.yaml` (the
quick offline demo), `config/demo-full.yaml` (the full offline demo),
`config/demo-ablation.yaml` (a longer ablation ladder, on top of a demo
config), `config/lips.yaml` and `config/lips-demo.yaml` (the lip-speech task).

Sections whose description says "options of `alignnet X`" are passed to that
command as `--key value` (`max_gap: 15` becomes `--max-gap 15`; `true` becomes
a bare flag, `false` and `null` leave the option out), so `alignnet X --help`
says more about each key; `tests/test_workflow.py` holds those defaults equal
to the command's own (see docs/testing.md)."""


def _scalar(value: Any) -> str:
    """A default as YAML writes it inline: null, true, 30, [a, b], {}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return str(value)


def type_text(spec: Mapping[str, Any]) -> str:
    """The JSON-schema type of a key in words: `integer`, `number or null`, `list of string`."""
    types = spec.get("type", "any")
    names = list(types) if isinstance(types, list) else [types]
    words = []
    for name in names:
        if name == "array":
            item = spec.get("items", {})
            words.append(f"list of {type_text(item) if 'properties' not in item else 'mappings'}")
        elif name == "object":
            words.append("mapping")
        else:
            words.append(str(name))
    return " or ".join(words)


def allowed_text(spec: Mapping[str, Any]) -> str:
    """The values a key accepts beyond its type: choices, bounds, a pattern."""
    parts = []
    choices = spec.get("enum") or spec.get("items", {}).get("enum")
    if choices:
        parts.append(", ".join(f"`{_scalar(c)}`" for c in choices))
    bounds = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
    for key, sign in bounds:
        if key in spec:
            parts.append(f"{sign} {_scalar(spec[key])}")
        elif key in spec.get("items", {}):
            parts.append(f"each {sign} {_scalar(spec['items'][key])}")
    if "pattern" in spec:
        parts.append(f"matches `{spec['pattern']}`")
    if "minLength" in spec.get("items", {}):
        parts.append("non-empty items")
    if spec.get("uniqueItems"):
        parts.append("no repeats")
    return "; ".join(parts)


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _rows(properties: Mapping[str, Any], required: Sequence[str] = (), prefix: str = "") -> Iterator[str]:
    for key, spec in properties.items():
        default = f"`{_scalar(spec['default'])}`" if "default" in spec else ("required" if key in required else "unset")
        cells = [f"`{prefix}{key}`", type_text(spec), default, allowed_text(spec), spec.get("description", "")]
        yield "| " + " | ".join(_cell(c) for c in cells) + " |"
        item = spec.get("items", {})
        if "properties" in item:
            yield from _rows(item["properties"], item.get("required", ()), prefix=f"{prefix}{key}[].")


def _table(properties: Mapping[str, Any], required: Sequence[str] = ()) -> list[str]:
    header = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    return header + list(_rows(properties, required))


def render(schema: Mapping[str, Any]) -> str:
    """The Markdown page of a config schema: the top-level keys, then one table per section."""
    properties = schema["properties"]
    top = {k: v for k, v in properties.items() if v.get("type") != "object"}
    sections = {k: v for k, v in properties.items() if v.get("type") == "object"}
    lines = [
        "# Configuration reference",
        "",
        f"<!-- Generated from workflow/schemas/config.schema.yaml by `{COMMAND}`; do not edit by hand. -->",
        "",
        INTRO,
        "",
        "## Top level",
        "",
        *_table(top, schema.get("required", ())),
    ]
    for name, section in sections.items():
        lines += ["", f"## `{name}:`", ""]
        if section.get("description"):
            lines += [" ".join(section["description"].split()), ""]
        lines += _table(section["properties"], section.get("required", ()))
    return "\n".join(lines) + "\n"


def render_file(schema_path: Path = SCHEMA_PATH) -> str:
    """The page of the schema at `schema_path`."""
    if not schema_path.is_file():
        raise FileNotFoundError(f"config schema not found: {schema_path}")
    return render(yaml.safe_load(schema_path.read_text(encoding="utf-8")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alignnet.config_docs", description=__doc__.splitlines()[0])
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help="the config schema (default: the workflow's)")
    args = parser.parse_args(argv)
    sys.stdout.write(render_file(args.schema))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
