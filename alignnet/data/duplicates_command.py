"""Find re-uploads (also mirrored ones) and group videos by song, from the fingerprints of `alignnet fingerprint`.

Writes VIDEOS.tsv: one row per video with video_id, song_id (videos with the
same audio recording share it: the smallest id of the group), keep, reason
(`duplicate` for every copy but the one kept), detail (the evidence: audio
bit error, offset, picture correlation, direct or mirrored) and duplicate_of.
--pairs writes every audio match with its figures. `alignnet filter
--duplicates VIDEOS.tsv` rejects the clips of a duplicate; `alignnet split
--songs VIDEOS.tsv --disjoint song` keeps each song in one split. How it
decides: alignnet.data.duplicates.

Example:
  alignnet duplicates results/duplicates/fingerprints/*.npz -o results/duplicates/videos.tsv \\
      --pairs results/duplicates/pairs.tsv
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from alignnet.atomic import atomic_output
from alignnet.data.duplicates import MatchSettings, match_all, pair_table, video_table
from alignnet.data.fingerprint import VideoFingerprint
from alignnet.dataclass_fields import add_field_options, known_fields
from alignnet.errors import UserInputError

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("fingerprints", nargs="*", type=Path, help="fingerprint .npz files of `alignnet fingerprint`")
    add("-o", "--output", type=Path, required=True, help="the per-video TSV to write")
    add("--pairs", type=Path, help="also write every audio match (video_a, video_b, figures) to this TSV")
    add_field_options(add, MatchSettings)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.max_bit_error < 0.5:
        raise UserInputError(f"--max-bit-error must be in (0, 0.5), got {args.max_bit_error}")
    if args.min_votes < 1 or args.max_postings < 2 or args.min_visual_frames < 1:
        raise UserInputError(
            "--min-votes and --min-visual-frames must be >= 1 and --max-postings >= 2, got "
            f"{args.min_votes}, {args.min_visual_frames}, {args.max_postings}"
        )
    settings = MatchSettings(**known_fields(MatchSettings, vars(args)))
    fingerprints = []
    for path in args.fingerprints:
        try:
            fingerprints.append(VideoFingerprint.load(path))
        except (OSError, KeyError, ValueError) as exc:
            raise UserInputError(f"cannot read fingerprint {path}: {exc}") from exc
    ids = [f.video_id for f in fingerprints]
    if len(set(ids)) != len(ids):
        raise UserInputError(f"two fingerprints have the same video id: {sorted({i for i in ids if ids.count(i) > 1})}")
    matches = match_all(fingerprints, settings)
    videos = video_table(fingerprints, matches)
    with atomic_output(args.output) as tmp:
        videos.to_csv(tmp, sep="\t", index=False)
    if args.pairs:
        with atomic_output(args.pairs) as tmp:
            pair_table(matches).to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    n_dup = int((~videos["keep"]).sum())
    log.info(
        "%d videos, %d songs, %d audio matches, %d duplicates",
        len(videos),
        videos["song_id"].nunique(),
        len(matches),
        n_dup,
    )
    return 0
