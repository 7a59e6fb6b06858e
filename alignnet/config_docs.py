"""The configuration reference page, generated from the workflow's config schema.

    python -m alignnet.config_docs > docs/config.md

Every key of workflow/schemas/config.schema.yaml, section by section, with its
type, default, allowed values and description (one table per section, the way
pypsa-eur documents its configuration). A key that the rules pass as an option
of an `alignnet` command (OPTION_SECTIONS) names that option, and where the
schema has no description of its own, the option's --help text is it.
tests/test_config_docs.py regenerates the page and compares it with the
committed one, so the page follows the schema.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from alignnet.cli import build_command_parser

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"
COMMAND = "python -m alignnet.config_docs > docs/config.md"

# Config sections whose keys the rules pass as `--key value` options of one `alignnet` command
# (workflow/rules/common.smk: options(section), pose_options(), discover_command()); `ablation:`'s
# training sizes are options of `alignnet train`. tests/test_workflow.py holds each key to its option.
OPTION_SECTIONS: dict[str, str] = {
    "discover": "discover",
    "download": "download",
    "media": "clip",
    "pose": "pose",
    "filter": "filter",
    "clean": "clean",
    "logmel": "logmel",
    "splits": "split",
    "train": "train",
    "syncnet": "train-syncnet",
    "evaluate": "evaluate",
    "ablation": "train",
    "retarget": "align",
    "voxceleb": "voxceleb",
    "duplicates": "duplicates",
}
# Keys of those sections that say how or over what a rule runs (or are its command's positional
# argument), not options.
NOT_OPTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("train", "gpus"),
        ("ablation", "variants"),
        ("ablation", "seeds"),
        ("ablation", "threads"),
        ("retarget", "pairs"),
        ("retarget", "checkpoint"),
        ("voxceleb", "txt_dir"),
        ("duplicates", "reject"),
        ("duplicates", "max_seconds"),
        ("pose", "container"),
    }
)

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
`config/demo-ablation.yaml` and `config/ablation.yaml` (longer ablation
ladders, on top of `config/demo-full.yaml`), `config/dance50-12s.yaml`,
`config/lips.yaml` and `config/lips-demo.yaml` (the lip-speech task).

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


def option_flag(key: str) -> str:
    """The command-line option a config key becomes: max_gap -> --max-gap."""
    return f"--{key.replace('_', '-')}"


def command_options(command: str) -> dict[str, argparse.Action]:
    """The options of `alignnet COMMAND` by their flag."""
    return dict(build_command_parser(command)[0]._option_string_actions)


def _help_text(action: argparse.Action) -> str:
    """An option's --help text as argparse prints it (%(default)s filled in, %% as %)."""
    return (action.help or "").replace("%(default)s", str(action.default)).replace("%%", "%")


def section_descriptions(section: str, properties: Mapping[str, Any]) -> dict[str, str]:
    """Each key's description: the schema's, else its command option's help; option keys name their option."""
    command = OPTION_SECTIONS.get(section)
    actions = command_options(command) if command else {}
    out = {}
    for key, spec in properties.items():
        text = " ".join(spec.get("description", "").split())
        action = actions.get(option_flag(key)) if (section, key) not in NOT_OPTIONS else None
        if action is not None:
            text = text or _help_text(action)
            unset = (
                f", unset: {_scalar(action.default)}" if "default" not in spec and action.default is not None else ""
            )
            text = f"{text} (`alignnet {command} {option_flag(key)}`{unset})".lstrip()
        out[key] = text
    return out


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _rows(
    properties: Mapping[str, Any],
    required: Sequence[str] = (),
    prefix: str = "",
    descriptions: Mapping[str, str] | None = None,
) -> Iterator[str]:
    for key, spec in properties.items():
        default = f"`{_scalar(spec['default'])}`" if "default" in spec else ("required" if key in required else "unset")
        description = (descriptions or {}).get(key, spec.get("description", ""))
        cells = [f"`{prefix}{key}`", type_text(spec), default, allowed_text(spec), description]
        yield "| " + " | ".join(_cell(c) for c in cells) + " |"
        item = spec.get("items", {})
        if "properties" in item:
            yield from _rows(item["properties"], item.get("required", ()), prefix=f"{prefix}{key}[].")


def _table(
    properties: Mapping[str, Any], required: Sequence[str] = (), descriptions: Mapping[str, str] | None = None
) -> list[str]:
    header = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    return header + list(_rows(properties, required, descriptions=descriptions))


def render(schema: Mapping[str, Any]) -> str:
    """The Markdown page of a config schema: the top-level keys, then one table per section (a section named in
    OPTION_SECTIONS takes the descriptions its keys lack from its command's options)."""
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
        descriptions = section_descriptions(name, section["properties"])
        lines += _table(section["properties"], section.get("required", ()), descriptions)
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
    try:
        page = render_file(args.schema)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
