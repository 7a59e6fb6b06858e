"""DAG planning at Dance50 scale: `snakemake -n` of the full workflow against a bare floor.

For each size N it writes a synthetic manifest of N videos (no downloads) into a
temporary directory and times, in an empty working directory each:

  ours  `snakemake -n` of workflow/Snakefile with config.yaml and `manifest:` set
        (discovery skipped), i.e. every per-video stage, the dataset and training;
  bare  a Snakefile of the same shape without anything else: the same six per-video
        rules and the same aggregate rules (the same number of jobs), plain
        expand() inputs, no log/benchmark/params/resources/conda.

Prints one row per size: videos, jobs, seconds ours, seconds bare, their ratio, and
the same for CPU seconds (user + system of the snakemake process), which a busy shared
machine disturbs far less than wall-clock time. Startup is included in both.
With --repeats R the fastest of R runs counts. Run it `nice` on a shared machine.

Usage: python benchmarks/dag_scale.py [--videos 300 1000 3000] [--repeats 1] [--quiet] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alignnet.data.manifest import ManifestEntry, write_manifest

REPO = Path(__file__).resolve().parent.parent

BARE_SNAKEFILE = """\
import csv

with open(config["manifest"], newline="") as fh:
    VIDEOS = [row["video_id"] for row in csv.DictReader(fh, delimiter="\\t")]


rule all:
    input: "results/dataset/summary.json", "results/train/best.safetensors"

rule download_video:
    input: config["manifest"]
    output: directory("resources/videos/{video}")
    shell: "mkdir -p {output}"

rule clip_video:
    input: "resources/videos/{video}"
    output: directory("results/clips/{video}")
    shell: "mkdir -p {output}"

rule pose_video:
    input: "results/clips/{video}"
    output: "results/pose/{video}.npz"
    shell: "touch {output}"

rule filter_video:
    input: "results/clips/{video}", "results/pose/{video}.npz"
    output: "results/filter/{video}.tsv"
    shell: "touch {output}"

rule clean_video:
    input: "results/clips/{video}", "results/pose/{video}.npz", "results/filter/{video}.tsv"
    output: "results/keypoints/{video}.parquet"
    shell: "touch {output}"

rule logmel_video:
    input: "results/clips/{video}"
    output: "results/logmel/{video}.npz"
    shell: "touch {output}"

rule download:
    input: expand("resources/videos/{video}", video=VIDEOS)
    output: "results/download/failures.tsv"
    shell: "touch {output}"

rule filter:
    input: expand("results/filter/{video}.tsv", video=VIDEOS)
    output: "results/filter/verdicts.tsv"
    shell: "touch {output}"

rule split:
    input:
        expand("results/keypoints/{video}.parquet", video=VIDEOS),
        expand("results/logmel/{video}.npz", video=VIDEOS),
    output: directory("results/dataset/splits")
    shell: "mkdir -p {output}"

rule summary:
    input: "results/download/failures.tsv", "results/filter/verdicts.tsv", "results/dataset/splits"
    output: "results/dataset/summary.json"
    shell: "touch {output}"

rule train:
    input: "results/dataset/splits"
    output: "results/train/best.safetensors"
    shell: "touch {output}"
"""


def write_synthetic_manifest(path: Path, n_videos: int) -> Path:
    """A manifest of `n_videos` made-up YouTube entries (ids v00000, v00001, ...)."""
    entries = [
        ManifestEntry(
            f"v{i:05d}", f"https://www.youtube.com/watch?v=v{i:05d}", f"cover {i}", "dancer", 180.0, "synthetic"
        )
        for i in range(n_videos)
    ]
    write_manifest(entries, path)
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def dry_run(
    snakefile: Path, workdir: Path, manifest: Path, extra: list[str], log_path: Path
) -> tuple[float, float, int]:
    """Wall and CPU seconds of one `snakemake -n` in an empty `workdir`, and the planned job count."""
    workdir.mkdir(parents=True)
    command = [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(snakefile), "--directory", str(workdir)]
    command += [*extra, "--config", f"manifest={manifest}"]
    with log_path.open("w") as log:
        start, cpu_start = time.perf_counter(), _children_cpu()
        result = subprocess.run(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, check=False)
        seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    text = log_path.read_text()
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {result.returncode}); see {log_path}")
    match = re.search(r"^total\s+(\d+)\s*$", text, re.MULTILINE)
    return seconds, cpu, int(match.group(1)) if match else -1


def fastest(repeats: int, *args) -> tuple[float, float, int]:
    """The fastest of `repeats` dry runs (each in its own fresh working directory)."""
    snakefile, workdir, manifest, extra, log_path = args
    runs = [
        dry_run(snakefile, workdir.with_name(f"{workdir.name}-{r}"), manifest, extra, log_path) for r in range(repeats)
    ]
    return min(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, nargs="+", default=[300, 1000, 3000], help="manifest sizes")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement; the fastest counts")
    parser.add_argument("--quiet", action="store_true", help="pass --quiet to snakemake (plan without listing jobs)")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep manifests and logs")
    args = parser.parse_args(argv)

    extra = ["--quiet", "rules"] if args.quiet else []
    with tempfile.TemporaryDirectory(prefix="dag_scale_") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        bare = root / "bare" / "Snakefile"
        bare.parent.mkdir(exist_ok=True)
        bare.write_text(BARE_SNAKEFILE)
        ours_extra = ["--configfile", str(REPO / "config.yaml"), *extra]
        header = ("videos", "jobs", "ours s", "bare s", "ratio", "ours cpu", "bare cpu", "ratio")
        print("{:>7} {:>7} {:>8} {:>8} {:>6} {:>9} {:>9} {:>6}".format(*header), flush=True)
        for n in args.videos:
            manifest = write_synthetic_manifest(root / f"manifest_{n}.tsv", n)
            ours_s, ours_cpu, jobs = fastest(
                args.repeats,
                REPO / "workflow/Snakefile",
                root / f"ours_{n}",
                manifest,
                ours_extra,
                root / f"ours_{n}.log",
            )
            bare_s, bare_cpu, bare_jobs = fastest(
                args.repeats, bare, root / f"bare_{n}", manifest, extra, root / f"bare_{n}.log"
            )
            if jobs != bare_jobs:
                print(f"warning: {jobs} jobs planned by ours, {bare_jobs} by bare", file=sys.stderr)
            print(
                f"{n:>7} {jobs:>7} {ours_s:>8.1f} {bare_s:>8.1f} {ours_s / bare_s:>6.2f}"
                f" {ours_cpu:>9.1f} {bare_cpu:>9.1f} {ours_cpu / bare_cpu:>6.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
