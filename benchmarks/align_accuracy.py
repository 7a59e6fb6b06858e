"""Accuracy of `alignnet align` end to end on warped demo videos with a trained checkpoint.

Renders --videos demo videos with a known warp (`alignnet synth --warp`),
aligns each to its own music with `alignnet align --checkpoint STEM`, and
compares the CSV's source_frame with the sidecar's truth: output frame k
should show the input frame the warp placed at audio frame k. Prints AFE
(input frames, on the output timeline) and ITU-R BT.1359 accuracy (of each
input frame's playing time, `metrics.retiming_errors`) per video and overall; the goal is
AFE < 1.5 frames and accuracy >= 90 %. --music-as gives align the music as
real files often carry it instead: a 128 kbit/s MP3, or a WAV at 22.05, 16 or
8 kHz (the video's own audio transcoded with ffmpeg).

    python benchmarks/align_accuracy.py --checkpoint results/train/alignnet/best [--videos 3] [--seconds 10]
                                        [--music-as as-is|mp3|22050|16000|8000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import ffmpeg
import numpy as np
import pandas as pd

from alignnet.cli import main as cli_main
from alignnet.demo.synth.timewarp import retimed_truth
from alignnet.metrics import afe, retiming_errors, retiming_itu_accuracy

FPS = 30.0
# --music-as: file suffix and ffmpeg output options of each form of the music
MUSIC_FORMS: dict[str, tuple[str, dict[str, object]]] = {
    "mp3": (".mp3", {"acodec": "libmp3lame", "audio_bitrate": "128k"}),
    "22050": (".wav", {"ar": 22050}),
    "16000": (".wav", {"ar": 16000}),
    "8000": (".wav", {"ar": 8000}),
}


def music_file(video: Path, form: str) -> Path:
    """The video's own audio as `form` (MUSIC_FORMS), or the video itself for "as-is"."""
    if form == "as-is":
        return video
    suffix, options = MUSIC_FORMS[form]
    out = video.with_name(f"{video.stem}.music-{form}{suffix}")
    ffmpeg.input(str(video)).output(str(out), vn=None, **options).overwrite_output().run(quiet=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="AlignNet checkpoint stem")
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--music-as",
        choices=("as-is", *MUSIC_FORMS),
        default="as-is",
        help="the AUDIO align gets: the video itself, or its music as an MP3 or a WAV at a lower rate",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        argv = [
            "synth",
            str(folder),
            "--videos",
            str(args.videos),
            "--seconds",
            str(args.seconds),
            "--warp",
            "--seed",
            str(args.seed),
            "--negatives",
            "0",
            "--no-progress",
        ]
        if cli_main(argv) != 0:
            raise SystemExit("alignnet synth failed")
        preds, truths, errors = [], [], []
        for video in sorted(folder.glob("demo-*.mp4")):
            csv = folder / f"{video.stem}.csv"
            music = music_file(video, args.music_as)
            code = cli_main(
                [
                    "align",
                    str(video),
                    str(music),
                    "-o",
                    str(folder / f"{video.stem}.out.mp4"),
                    "--checkpoint",
                    args.checkpoint,
                    "--correspondence",
                    str(csv),
                    "--no-progress",
                ]
            )
            if code != 0:
                print(f"{video.name}: align exited with {code}")
                continue
            truth = retimed_truth(json.loads(video.with_suffix(".json").read_text())["source_frame"])
            pred = pd.read_csv(csv)["source_frame"].to_numpy(np.float64)
            preds.append(pred)
            truths.append(truth)
            errors.append(retiming_errors(pred, truth))
            print(
                f"{video.name}: AFE {afe(pred, truth):.2f} frames, "
                f"ITU accuracy {retiming_itu_accuracy(errors[-1], FPS):.1%}"
            )
        if preds:
            pred, truth = np.concatenate(preds), np.concatenate(truths)
            print(
                f"all {len(preds)} videos: AFE {afe(pred, truth):.2f} frames, "
                f"ITU accuracy {retiming_itu_accuracy(np.concatenate(errors), FPS):.1%}"
            )


if __name__ == "__main__":
    main()
