"""videos.tsv of `alignnet duplicates`: per video its song and whether it is a re-upload of another.

Columns: video_id, song_id, keep, reason (`duplicate` or empty), detail,
duplicate_of. The filter (`--duplicates`) and the split (`--songs`) read it;
this module needs only pandas, so they do not pull in the fingerprinting.
"""

from __future__ import annotations

import os

import pandas as pd

from alignnet.errors import DataError
from alignnet.tables import read_table

VIDEO_COLUMNS = ["video_id", "song_id", "keep", "reason", "detail", "duplicate_of"]


def read_video_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The table with `keep` as bool; raises DataError naming the file when columns are missing."""
    what = "videos.tsv of `alignnet duplicates`"
    table = read_table(path, VIDEO_COLUMNS, what=what, dtype=str, keep_default_na=False)
    table["keep"] = table["keep"].str.lower() == "true"
    return table
