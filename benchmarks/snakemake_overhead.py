"""Snakemake's own CPU while it runs many short jobs: what the `benchmark:` directive and the scheduler cost.

Issue #37 measured Snakemake's process at 38 % of a core during the full demo's data
stages. A py-spy profile of it during the quick demo (docs/performance.md) put about
40 % of its busy samples in the `benchmark:` directive's polling (psutil walks every
process on the machine to find a job's children, twice a second for each job's first
15 s, which is the whole life of a per-video job) and most of the rest in thread
start-up and the ILP job selection. This script isolates that cost: N jobs that only
`sleep`, so that the CPU of snakemake's process tree is Snakemake's own, run with
`--cores 2` and each variant:

  plain      the jobs, nothing else
  benchmark  each job with a `benchmark:` file (as the per-video rules had)
  greedy     as plain, with `--scheduler greedy` instead of the ILP

Prints, per variant: jobs, wall seconds, CPU seconds of snakemake's tree, CPU ms per job
and the share of one core over the run. Run it `nice` on a shared machine.

Usage: python benchmarks/snakemake_overhead.py [--jobs 40] [--sleep 3] [--variants plain benchmark greedy]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """\
N = int(config["jobs"])

rule all:
    input: expand("out/{{i}}.txt", i=range(N))

rule job:
    output: "out/{{i}}.txt"
{benchmark}    shell: "sleep {sleep} && touch {{output}}"
"""

VARIANTS: dict[str, tuple[bool, list[str]]] = {
    "plain": (False, []),
    "benchmark": (True, []),
    "greedy": (False, ["--scheduler", "greedy"]),
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_variant(workdir: Path, jobs: int, sleep: float, benchmark: bool, extra: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one snakemake run of `jobs` sleeping jobs in the fresh `workdir`."""
    workdir.mkdir(parents=True)
    bench = '    benchmark: "bench/{i}.tsv"\n' if benchmark else ""
    snakefile = workdir / "Snakefile"
    snakefile.write_text(SNAKEFILE.format(benchmark=bench, sleep=sleep))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(workdir)]
    command += ["--cores", "2", "--quiet", "all", "--config", f"jobs={jobs}", *extra]
    start, cpu_start = time.perf_counter(), _children_cpu()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    if result.returncode != 0:
        raise RuntimeError(f"snakemake failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return seconds, cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=40, help="jobs per run (default 40)")
    parser.add_argument("--sleep", type=float, default=3.0, help="seconds each job sleeps (default 3)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    print("| variant | jobs | wall (s) | CPU of snakemake (s) | CPU per job (ms) | share of one core |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="snakemake-overhead-") as tmp:
        for name in args.variants:
            benchmark, extra = VARIANTS[name]
            seconds, cpu = run_variant(Path(tmp) / name, args.jobs, args.sleep, benchmark, extra)
            print(
                f"| {name} | {args.jobs} | {seconds:.1f} | {cpu:.2f} | {1000 * cpu / args.jobs:.0f} | "
                f"{100 * cpu / seconds:.1f} % |"
            )


if __name__ == "__main__":
    main()
