"""Collect per-video tables into one: the stage-level views the summary reads."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from alignnet.atomic import atomic_output
from alignnet.tables import read_table


def concat_tables(paths: Sequence[str | os.PathLike[str]], out_path: str | os.PathLike[str]) -> int:
    """Concatenate TSVs with one header (empty ones included); returns the row count.

    Rows keep the order of `paths`, so the result does not depend on the
    order jobs finished in.
    """
    frames = []
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"table not found: {path}")
        frames.append(read_table(path, dtype=str, keep_default_na=False))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    with atomic_output(out_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return len(table)
