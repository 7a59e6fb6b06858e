"""File names as ffmpeg and ffprobe must receive them.

Both read a bare argument that starts with "-" as an option ("-dance.mp4")
and one with a colon before any slash as a protocol ("take:2.mp4"), so a
user's file is always handed over as an absolute path.
"""

from __future__ import annotations

import os


def ffmpeg_path(path: str | os.PathLike[str]) -> str:
    """`path` made absolute (not resolved: symlinks stay), as a string for an ffmpeg or ffprobe argument."""
    return os.path.abspath(os.fspath(path))
