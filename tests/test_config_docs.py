"""docs/config.md is the config schema's page: regenerated, it must be the committed file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alignnet.config_docs import SCHEMA_PATH, allowed_text, main, render, render_file, type_text

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def page() -> str:
    return render_file()


def test_committed_page_is_the_schemas(page):
    committed = (REPO / "docs/config.md").read_text(encoding="utf-8")
    assert committed == page, "docs/config.md is stale: run `python -m alignnet.config_docs > docs/config.md`"


def test_every_key_has_a_row(page):
    schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))["properties"]
    for name, spec in schema.items():
        for key in spec.get("properties", {name: spec}):
            assert f"| `{key}` |" in page, f"{name}.{key} missing from docs/config.md"


def test_main_writes_the_page_of_a_schema(tmp_path, capsys):
    schema = tmp_path / "s.yaml"
    schema.write_text("properties:\n  demo: {type: object, properties: {videos: {type: integer, default: 24}}}\n")
    assert main(["--schema", str(schema)]) == 0
    assert "| `videos` | integer | `24` |  |  |" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--schema", str(tmp_path / "missing.yaml")])
    assert "missing.yaml" in capsys.readouterr().err


def test_rows_say_type_default_bounds_and_choices():
    schema = {
        "required": ["sources"],
        "properties": {
            "sources": {"type": "array", "items": {"type": "string"}},
            "sizes": {
                "type": "object",
                "description": "the sizes\n  of things",
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
            "filter": {"type": "object", "properties": {"min_detection_rate": {"type": "number", "maximum": 1}}},
        },
    }
    page = render(schema)
    assert "| `sources` | list of string | required |  |  |" in page
    assert "## `sizes:`\n\nthe sizes of things\n" in page
    assert "| `lr` | number | `0.0003` | > 0 | a \\| b |" in page
    assert "| `threads` | integer or null | `null` | >= 1 |  |" in page
    assert "| `device` | string | `auto` | `auto`, `cpu` |  |" in page
    assert "| `pairs[].video` | string | required |  |  |" in page
    # a key that is a command's option: its help where the schema says nothing, the option and its default
    row = next(line for line in page.splitlines() if line.startswith("| `min_detection_rate` |"))
    assert row.startswith("| `min_detection_rate` | number | unset | <= 1 | no_person when")
    assert row.endswith("(`alignnet filter --min-detection-rate`, unset: 0.8) |")
    assert type_text({"type": "array", "items": {"type": "number"}}) == "list of number"
    assert allowed_text({"type": "array", "items": {"enum": ["a"]}, "uniqueItems": True}) == "`a`; no repeats"
