"""What users will see: `alignnet align` end to end on dances that drift against their music.

For every length (--lengths, seconds of music) and drift strength (--strengths,
`alignnet.demo.synth.timewarp.DRIFTS`: none; mild, local speeds 0.85-1.18x and
the dance starting / ending up to 1 s into / before the end of the song;
strong, 0.7-1.4x and 2 s; extreme, 0.6-1.6x and 4 s), makes --videos videos
with `alignnet.demo.synth.heldout.make_heldout_video` (the video a few seconds
shorter than the song, drifting seconds from the linear "spans the whole song"
prior; video i of every strength the same song, dance and figure), runs
`alignnet align VIDEO MUSIC --checkpoint STEM --correspondence C.csv` on it
(pose from pixels, MediaPipe), and prints per strength and length the AFE
(frames) and ITU-R BT.1359 accuracy of the CSV against the truth, beside two
reference rows: the video left as it is (output frame k shows input frame k)
and the best single global shift (the shift with the best AFE, and the one
with the best accuracy: what an offset-only method such as SyncNet can at most
reach).

--material heldout (the default): what the general corpus's training never
sees: a held-out music package (recorded game music), the held-out style
("hits") and figure ("stick"). --material demo: the demo generator's own
synthesised music, dances and drawn dancer (what the demo checkpoint was
trained on). --music, --style and --figure replace the material's packages,
styles or figures (e.g. the training ones, to score training material the
same way).

--variant adds runs of align with other options (e.g. linear="--prior
linear": align before the global search, which centred its windows on the
linear prior). --syncnet STEM adds SyncNet+DTW on the same videos (MediaPipe
pose, the AlignNet checkpoint's log-mel settings). --mismatched N aligns N
videos per length to another song of the same material (with the first of
the align runs) and prints whether each is reported low-confidence
(C.confidence.json).

    python benchmarks/align_outside.py [--checkpoint STEM] [--material heldout|demo]
        [--lengths 30 180] [--strengths none mild strong extreme] [--videos 2] [--music PKG ...]
        [--style NAME ...] [--figure NAME ...] [--variant linear="--prior linear"] [--syncnet STEM]
        [--mismatched 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shlex
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alignnet.align.retime import confidence_path, invert
from alignnet.checkpoints import GENERAL
from alignnet.cli import main as cli_main
from alignnet.demo.synth.figures import FIGURE_PRESETS, HELDOUT_FIGURES
from alignnet.demo.synth.heldout import HeldoutVideo, load_truth, make_heldout_video
from alignnet.demo.synth.real_music import HELDOUT_PACKAGES, MUSIC_PACKAGES
from alignnet.demo.synth.styles import DANCE_STYLES, HELDOUT_STYLES
from alignnet.demo.synth.timewarp import DRIFTS, retimed_truth
from alignnet.metrics import afe, retiming_errors, retiming_itu_accuracy

FPS = 30.0
SHIFT_STEP = 0.25  # frames between the global shifts tried
MAX_SHIFT_S = 8.0  # largest global shift tried, seconds either way
# material -> (music packages, dance styles, figures) for make_heldout_video; () is the demo generator's own
MATERIALS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "heldout": (HELDOUT_PACKAGES, HELDOUT_STYLES, HELDOUT_FIGURES),
    "demo": ((), (), ()),
}


@dataclass
class Scores:
    """Per-frame predictions and truths of one method over several videos."""

    preds: list[np.ndarray] = field(default_factory=list)
    truths: list[np.ndarray] = field(default_factory=list)

    def add(self, pred: np.ndarray, truth: np.ndarray) -> None:
        self.preds.append(np.asarray(pred, np.float64))
        self.truths.append(np.asarray(truth, np.float64))

    def summary(self) -> tuple[float, float]:
        if not self.preds:
            return float("nan"), float("nan")
        pred, truth = np.concatenate(self.preds), np.concatenate(self.truths)
        errors = np.concatenate([retiming_errors(p, t) for p, t in zip(self.preds, self.truths, strict=True)])
        return afe(pred, truth), retiming_itu_accuracy(errors, FPS)


def as_is(n_out: int, n_video: int) -> np.ndarray:
    """Output frame k shows input frame k (the last one held): the video left as it is."""
    return np.minimum(np.arange(n_out, dtype=np.float64), n_video - 1)


def best_shifts(truth: np.ndarray, n_video: int) -> tuple[np.ndarray, np.ndarray]:
    """The video shifted by the single offset with the best AFE, and by the one with the best ITU accuracy
    (of those, the one with the lowest AFE)."""
    shifts = np.arange(-MAX_SHIFT_S * FPS, MAX_SHIFT_S * FPS + SHIFT_STEP, SHIFT_STEP)
    base = np.arange(len(truth), dtype=np.float64)
    shifted = np.clip(base[None, :] + shifts[:, None], 0, n_video - 1)
    errors = np.array([afe(s, truth) for s in shifted])
    hits = np.array([retiming_itu_accuracy(retiming_errors(s, truth), FPS) for s in shifted])
    return shifted[int(np.argmin(errors))], shifted[int(np.lexsort((errors, -hits))[0])]  # ties: the lower AFE


def run_align(video: Path, music: Path, folder: Path, checkpoint: str, name: str, extra: list[str]) -> Path | None:
    """`alignnet align` in-process; the CSV it wrote, or None when it failed."""
    csv = folder / f"{video.stem}.{name}.csv"
    argv = [
        "align",
        str(video),
        str(music),
        "-o",
        str(folder / f"{video.stem}.{name}.mp4"),
        "--checkpoint",
        checkpoint,
        "--correspondence",
        str(csv),
        "--no-progress",
        *extra,
    ]
    code = cli_main(argv)
    if code != 0:
        print(f"{video.name} ({name}): align exited with {code}")
        return None
    return csv


def syncnet_dtw(stem: str, checkpoint: str, video: Path, music: Path, n_out: int) -> np.ndarray:
    """SyncNet+DTW's re-timing of `video` onto `music` (MediaPipe pose, the AlignNet checkpoint's log-mel)."""
    from alignnet.align.media import decode_audio
    from alignnet.align.pipeline import PoseOptions, model_keypoints, video_pose
    from alignnet.checkpoint import read_meta
    from alignnet.correspondence import Timebase
    from alignnet.data.logmel import logmel, normalise_logmel
    from alignnet.data.preprocessing import load_preprocessing
    from alignnet.evaluation.methods import syncnet_aligners

    prep = load_preprocessing(read_meta(checkpoint), f"{checkpoint}.json", None)
    with tempfile.TemporaryDirectory() as tmp:
        mono, _ = decode_audio(music, Path(tmp) / "a.wav", prep.logmel.sample_rate)
    mel = normalise_logmel(logmel(mono, prep.logmel), prep.stats)
    pose = video_pose(video, video, PoseOptions(), FPS, progress=False)
    keypoints, _ = model_keypoints(pose, video, 0.5, "dance", prep.clean)
    timebase = Timebase(FPS, prep.logmel.sample_rate / prep.logmel.hop_length, mel.shape[1])
    forward = syncnet_aligners(stem)[1].align(keypoints, mel, timebase)
    return invert(forward, n_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--checkpoint", default=str(GENERAL), help="AlignNet checkpoint stem (default: the shipped general model)"
    )
    parser.add_argument(
        "--material",
        choices=list(MATERIALS),
        default="heldout",
        help="held-out music, style and figure (default), or the demo generator's own",
    )
    parser.add_argument(
        "--music",
        nargs="+",
        choices=MUSIC_PACKAGES,
        metavar="PKG",
        help="recorded music from these packages instead of the material's",
    )
    parser.add_argument(
        "--style", nargs="+", choices=list(DANCE_STYLES), metavar="NAME", help="dance styles instead of the material's"
    )
    parser.add_argument(
        "--figure", nargs="+", choices=list(FIGURE_PRESETS), metavar="NAME", help="figures instead of the material's"
    )
    parser.add_argument("--lengths", type=float, nargs="+", default=[30.0, 180.0], help="seconds of music")
    parser.add_argument("--strengths", nargs="+", choices=list(DRIFTS), default=list(DRIFTS))
    parser.add_argument("--videos", type=int, default=2, help="videos per length and strength")
    parser.add_argument("--seed", type=int, default=0, help="the first video's index (make_heldout_video's seed)")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar='NAME="ALIGN OPTIONS"',
        help='another run of align per video with these options, e.g. linear="--prior linear"',
    )
    parser.add_argument("--syncnet", metavar="STEM", help="SyncNet checkpoint: adds SyncNet+DTW")
    parser.add_argument(
        "--mismatched",
        type=int,
        default=0,
        metavar="N",
        help="per length, N videos aligned to another song's music (confidence check)",
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the videos, CSVs and JSONs here")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the table's rows here (JSON)")
    args = parser.parse_args()
    packages, styles, figures = MATERIALS[args.material]
    material = {
        "packages": tuple(args.music) if args.music else packages,
        "styles": tuple(args.style) if args.style else styles,
        "figures": tuple(args.figure) if args.figure else figures,
    }
    described = "; ".join(f"{key} {', '.join(names) or 'of the demo'}" for key, names in material.items())
    print(f"material {args.material}: {described}", flush=True)
    variants = {"align": []}
    for spec in args.variant:
        name, _, options = spec.partition("=")
        variants[name] = shlex.split(options)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for length in args.lengths:
            made: list[HeldoutVideo] = []
            out = folder / f"{length:g}s"
            for strength in args.strengths:
                scores = {name: Scores() for name in ["as is", "best shift (AFE)", "best shift (ITU)", *variants]}
                if args.syncnet:
                    scores["SyncNet+DTW"] = Scores()
                confidences: dict[str, list[float]] = {name: [] for name in variants}
                for index in range(args.seed, args.seed + args.videos):
                    # video i of every strength: the same song, dance and figure, only the drift differs
                    held = make_heldout_video(index, length, out, strength, **material)
                    made.append(held)
                    stem = f"{strength}-{length:g}s-{index}"
                    n_out, n_video = load_truth(held.truth)["audio_frames"], len(held.source_frame)
                    truth = retimed_truth(held.source_frame, n_out)
                    scores["as is"].add(as_is(n_out, n_video), truth)
                    by_afe, by_itu = best_shifts(truth, n_video)
                    scores["best shift (AFE)"].add(by_afe, truth)
                    scores["best shift (ITU)"].add(by_itu, truth)
                    for name, extra in variants.items():
                        start = time.perf_counter()
                        csv = run_align(held.video, held.music, held.video.parent, args.checkpoint, name, extra)
                        if csv is None:
                            continue
                        pred = pd.read_csv(csv)["source_frame"].to_numpy(np.float64)
                        scores[name].add(pred, truth)
                        confidence = json.loads(confidence_path(csv).read_text())["confidence"]
                        confidences[name].append(confidence)
                        accuracy = retiming_itu_accuracy(retiming_errors(pred, truth), FPS)
                        print(
                            f"{stem} {name}: AFE {afe(pred, truth):.2f}, ITU {accuracy:.1%}, confidence "
                            f"{confidence:.2f}, {time.perf_counter() - start:.0f} s",
                            flush=True,
                        )
                    if args.syncnet:
                        retimed = syncnet_dtw(args.syncnet, args.checkpoint, held.video, held.music, n_out)
                        scores["SyncNet+DTW"].add(retimed, truth)
                for name, score in scores.items():
                    error, accuracy = score.summary()
                    conf = confidences.get(name)
                    rows.append(
                        {
                            "length s": length,
                            "drift": strength,
                            "method": name,
                            "AFE": round(error, 2),
                            "ITU %": round(100 * accuracy, 1),
                            "confidence": round(float(np.mean(conf)), 2) if conf else None,
                        }
                    )
                    print(rows[-1], flush=True)
            name, extra = next(iter(variants.items()))  # align as asked: the first variant
            for k, held in enumerate(made[: args.mismatched]):
                # another song of the same material: an index past the benchmark's own videos
                other = make_heldout_video(args.seed + args.videos + k, length, out / "other", "none", **material)
                csv = run_align(
                    held.video, other.music, held.video.parent, args.checkpoint, f"{name}.mismatched", extra
                )
                if csv is not None:
                    record = json.loads(confidence_path(csv).read_text())
                    rows.append(
                        {
                            "length s": length,
                            "drift": f"other song ({held.video.parent.name} {held.video.stem} to {other.music.stem})",
                            "method": name,
                            "AFE": None,
                            "ITU %": None,
                            "confidence": record["confidence"],
                            "low": record["low_confidence"],
                        }
                    )
                    print(rows[-1], flush=True)
        table = pd.DataFrame(rows)
        print()
        print(table.to_string(index=False))
        if args.json:
            record = {"material": args.material, **{k: list(v) for k, v in material.items()}, "rows": rows}
            args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
