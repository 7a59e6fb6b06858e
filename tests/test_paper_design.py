"""`alignnet train --paper`: the paper's design, held to the table of departures in docs/model.md.

The test reads the table from the doc, so that the doc, `alignnet.training.paper_design.DEPARTURES` and the
models `alignnet train` builds cannot drift apart.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from alignnet.data.logmel import LogMelStats
from alignnet.data.preprocessing import STATS_FILE
from alignnet.errors import UserInputError
from alignnet.losses import alignment_loss
from alignnet.models import AlignNet
from alignnet.training import command as train_command
from alignnet.training.alignnet_training import TrainConfig
from alignnet.training.paper_design import DEPARTURES
from tests.synthetic_split import make_synthetic_split

DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"


def doc_section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def departures_table() -> list[dict[str, str]]:
    """The rows of docs/model.md's one table of departures, as {header: cell}."""
    lines = [line for line in doc_section("Departures from the paper").splitlines() if line.startswith("|")]
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(headers, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def code(cell: str) -> str:
    """The one `code span` of a table cell."""
    spans = re.findall(r"`([^`]+)`", cell)
    assert len(spans) == 1, cell
    return spans[0]


def paper_modules_in_doc() -> set[str]:
    line = next(line for line in doc_section("The model").split("\n\n") if "Modules of the paper's design" in line)
    return set(re.findall(r"`(\w+)`", line.split(":", 1)[1]))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = make_synthetic_split(tmp_path_factory.mktemp("data"), {"train": 2, "val": 2, "test": 2}, seconds=2.0)
    LogMelStats(np.full(128, -40.0, np.float32), np.full(128, 20.0, np.float32)).save(data / STATS_FILE)
    return data


def train_config(data_dir: Path, flags: list[str]) -> TrainConfig:
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    return train_command.config_from_args(parser.parse_args(["--data", str(data_dir), "--out", "unused", *flags]))


def resolve(config: TrainConfig, path: str) -> Any:
    value: Any = config
    for name in path.split("."):
        value = getattr(value, name)
    return value


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return bool(a == b)
    except ValueError:  # objects holding arrays: the same object or not
        return a is b


def settings(config: TrainConfig) -> dict[str, Any]:
    """Every field of a TrainConfig, those of its model and samples one level down (model.correlation, ...)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name in ("model", "samples"):
            out.update({f"{f.name}.{g.name}": getattr(value, g.name) for g in dataclasses.fields(value)})
        else:
            out[f.name] = value
    return out


def parts(net: AlignNet) -> set[str]:
    """The network's top-level modules and parameters."""
    return {name for name, _ in net.named_children()} | {name for name, _ in net.named_parameters(recurse=False)}


def test_table_lists_every_departure_with_its_switch() -> None:
    rows = departures_table()
    assert [code(row["switch"]) for row in rows] == [" ".join(d.flags) for d in DEPARTURES]
    assert all(row["measured effect"] for row in rows)
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    assert [parser.get_default(d.option) for d in DEPARTURES] == [d.default for d in DEPARTURES]


def test_paper_switch_sets_what_the_table_says_and_nothing_else(data_dir: Path) -> None:
    full, paper = train_config(data_dir, []), train_config(data_dir, ["--paper"])
    documented = {}
    for row in departures_table():
        path, value = (part.strip() for part in code(row["in the paper's design"]).split("=", 1))
        documented[path] = ast.literal_eval(value)
        assert same(resolve(paper, path), documented[path]), path
        assert not same(resolve(full, path), documented[path]), f"{path}: the default is already the paper's"
        alone = train_config(data_dir, code(row["switch"]).split())
        assert same(resolve(alone, path), documented[path]), f"{code(row['switch'])} alone does not set {path}"
    full_settings, paper_settings = settings(full), settings(paper)
    differ = {key for key in full_settings if not same(full_settings[key], paper_settings[key])}
    assert differ == set(documented)


def test_paper_model_has_the_papers_modules(data_dir: Path) -> None:
    full = AlignNet(train_config(data_dir, []).model)
    paper = AlignNet(train_config(data_dir, ["--paper"]).model)
    assert parts(paper) == paper_modules_in_doc()
    added = {code(row["module"]) for row in departures_table() if row["module"] != "-"}
    assert parts(full) - parts(paper) == added and parts(paper) < parts(full)
    paper.train()
    out = paper(torch.randn(2, 76, 60), torch.randn(2, 128, 172))
    loss, _ = alignment_loss(out, torch.zeros(2, 60), matching=train_config(data_dir, ["--paper"]).matching)
    loss.backward()
    assert out.correspondence.shape == (2, 60)


def test_paper_switch_refuses_a_contradicting_option(data_dir: Path) -> None:
    assert train_config(data_dir, ["--paper", "--correlation", "both"]).model.correlation == "local"  # the default
    with pytest.raises(UserInputError, match="--matching-weight 0.5 contradicts"):
        train_config(data_dir, ["--paper", "--matching-weight", "0.5"])
    with pytest.raises(UserInputError, match="--correlation pooled"):
        train_config(data_dir, ["--paper", "--correlation", "pooled"])
    assert train_config(data_dir, ["--paper", "--lr", "0.001"]).lr == 0.001  # kept, with a warning
