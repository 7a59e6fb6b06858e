"""Reading a delimited table and checking its columns: once, for every stage."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pandas as pd

from alignnet.errors import DataError


def read_table(
    path: str | os.PathLike[str],
    columns: Sequence[str] = (),
    *,
    sep: str = "\t",
    what: str = "",
    dtype: type | Mapping[str, type] | None = None,
    keep_default_na: bool = True,
) -> pd.DataFrame:
    """The table at `path` (TSV unless `sep` says otherwise) with at least `columns`.

    Raises DataError (a UserInputError and a ValueError) naming the file when it
    cannot be read, and naming the missing columns (and `what` the table should
    be, e.g. "clips.tsv of `alignnet clip`") when some are missing.
    """
    try:
        table = pd.read_csv(path, sep=sep, dtype=dtype, keep_default_na=keep_default_na)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read table ({exc})") from exc
    missing = [c for c in columns if c not in table.columns]
    if missing:
        hint = f" (is it {what}?)" if what else ""
        has = ", ".join(map(str, table.columns))
        raise DataError(f"{path}: missing columns {', '.join(missing)}{hint}; it has {has}")
    return table
