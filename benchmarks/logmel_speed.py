"""Speed of the log-mel stage in clips per second.

Writes synthetic clip directories (noise audio.wav + clips.tsv, 6-second clips at
44.1 kHz) in a temporary directory and times write_clip_logmels over them:
one process (also per CPU second, which a shared machine does not blur), then a
process pool of --workers over videos (how Snakemake runs
the stage: one job per video). For reference it also times
librosa.feature.melspectrogram + power_to_db on a (clips, samples) batch.

    .venv/bin/python benchmarks/logmel_speed.py --videos 8 --seconds 60 --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import librosa
import numpy as np
import soundfile

from alignnet.data.clips import ClipConfig, clip_table, write_clip_table
from alignnet.data.logmel import write_clip_logmels
from alignnet.stage_status import StageStatus

SR = 44100


def make_clipdir(path: Path, seconds: float, seed: int) -> int:
    path.mkdir(parents=True)
    audio = (0.1 * np.random.default_rng(seed).standard_normal(round(seconds * SR))).astype(np.float32)
    soundfile.write(path / "audio.wav", audio, SR, subtype="PCM_16")
    table = clip_table(n_frames=10**7, n_samples=len(audio), cfg=ClipConfig())
    write_clip_table(table, path / "clips.tsv")
    StageStatus("clip", True).write(path)
    return len(table)


def one_video(paths: tuple[Path, Path]) -> int:
    return len(write_clip_logmels(*paths).clip_index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        jobs = [(root / f"v{i}", root / f"v{i}.npz") for i in range(args.videos)]
        n_clips = sum(make_clipdir(clipdir, args.seconds, i) for i, (clipdir, _) in enumerate(jobs))
        one_video(jobs[0])  # warm-up: imports, mel filter bank

        start, cpu = time.perf_counter(), time.process_time()
        done = sum(map(one_video, jobs))
        single, single_cpu = done / (time.perf_counter() - start), done / (time.process_time() - cpu)

        with ProcessPoolExecutor(args.workers) as pool:
            list(pool.map(one_video, jobs[: args.workers]))  # warm-up of each worker
            start = time.perf_counter()
            done = sum(pool.map(one_video, jobs))
            pooled = done / (time.perf_counter() - start)

        batch, _ = soundfile.read(jobs[0][0] / "audio.wav", dtype="float32")
        batch = batch[: len(batch) // 264600 * 264600].reshape(-1, 264600)
        start = time.perf_counter()
        librosa.power_to_db(
            librosa.feature.melspectrogram(y=batch, sr=SR, n_fft=2048, hop_length=512, n_mels=128),
            ref=1.0,
            amin=1e-10,
            top_db=None,
        )
        librosa_batch = len(batch) / (time.perf_counter() - start)

    print(f"{n_clips} clips of 6 s in {args.videos} videos")
    print(f"write_clip_logmels, 1 process:            {single:6.1f} clips/s ({single_cpu:.1f} per CPU second)")
    print(f"write_clip_logmels, {args.workers} worker processes:   {pooled:6.1f} clips/s")
    print(f"reference: librosa melspectrogram batch:  {librosa_batch:6.1f} clips/s (1 process)")


if __name__ == "__main__":
    main()
