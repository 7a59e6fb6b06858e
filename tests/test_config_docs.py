"""docs/config.md is the config schema's page: regenerated, it must be the committed file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from alignnet.config_docs import SCHEMA_PATH, allowed_text, render, render_file, type_text

REPO = Path(__file__).resolve().parent.parent


def test_committed_page_is_the_schemas():
    page = (REPO / "docs/config.md").read_text(encoding="utf-8")
    assert page == render_file(), "docs/config.md is stale: run `python -m alignnet.config_docs > docs/config.md`"


def test_every_key_has_a_row():
    schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))["properties"]
    page = render_file()
    for name, spec in schema.items():
        for key in spec.get("properties", {name: spec}):
            assert f"| `{key}` |" in page, f"{name}.{key} missing from docs/config.md"


def test_module_writes_the_page():
    result = subprocess.run([sys.executable, "-m", "alignnet.config_docs"], capture_output=True, text=True, check=True)
    assert result.stdout == render_file()


def test_rows_say_type_default_bounds_and_choices():
    schema = {
        "required": ["sources"],
        "properties": {
            "sources": {"type": "array", "items": {"type": "string"}},
            "train": {
                "type": "object",
                "description": "options of\n  `alignnet train`",
                "properties": {
                    "lr": {"type": "number", "exclusiveMinimum": 0, "default": 0.0003, "description": "a | b"},
                    "threads": {"type": ["integer", "null"], "minimum": 1, "default": None},
                    "device": {"type": "string", "enum": ["auto", "cpu"], "default": "auto"},
                    "pairs": {
                        "type": "array",
                        "default": [],
                        "items": {"type": "object", "required": ["video"], "properties": {"video": {"type": "string"}}},
                    },
                },
            },
        },
    }
    page = render(schema)
    assert "| `sources` | list of string | required |  |  |" in page
    assert "## `train:`\n\noptions of `alignnet train`\n" in page
    assert "| `lr` | number | `0.0003` | > 0 | a \\| b |" in page
    assert "| `threads` | integer or null | `null` | >= 1 |  |" in page
    assert "| `device` | string | `auto` | `auto`, `cpu` |  |" in page
    assert "| `pairs[].video` | string | required |  |  |" in page
    assert type_text({"type": "array", "items": {"type": "number"}}) == "list of number"
    assert allowed_text({"type": "array", "items": {"enum": ["a"]}, "uniqueItems": True}) == "`a`; no repeats"
