"""Run the offline demo end to end.

Two sizes: the quick demo (config/demo.yaml: a small corpus and short
trainings, every stage and the report in about a quarter of an hour on 2
cores) and `--full` (config/demo-full.yaml: 80 videos and 14 minutes of
training, the run that meets the accuracy target; in its own working
directory, demo-full/). Before it starts it says what it will run and about
how long that takes (config `demo: minutes`); at the end, where the report is.

Generates the demo corpus once (regenerated when the `demo:` settings
change): `alignnet synth` (dance) or, with `demo.generator: lips`,
`alignnet lips-synth` (talking heads, config/lips-demo.yaml). Then serves it
on loopback (`alignnet serve-corpus`), runs `snakemake --configfile CONFIG
--cores N --rerun-incomplete` with any extra arguments (options, target rules or files), and
stops the server. When snakemake succeeded it writes the HTML report of what
was run (`snakemake --report`, `--report PATH`, default results/report.html;
not after a dry run, an unlock or a touch). The exit status is snakemake's, or
the report's where only that failed.

Examples:
  alignnet demo               # the quick demo
  alignnet demo --full        # the full one
  alignnet demo --cores 2 -- --forceall
  alignnet demo -- split      # the data stages only, up to the packed splits
  alignnet demo --configfile config/lips-demo.yaml --cores 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from alignnet.errors import UserInputError

log = logging.getLogger(__name__)

SYNTH_DEFAULTS = {"videos": 24, "seconds": 24, "seed": 0, "warp": False, "negatives": 0.2}
# Every `demo:` key a config may leave out (the schema's defaults; tests/test_workflow.py holds them equal).
DEMO_DEFAULTS = {
    **SYNTH_DEFAULTS,
    "generator": "dance",
    "corpus_dir": "resources/demo/corpus",
    "port": 18731,
    "workdir": ".",
    "minutes": None,
}
QUICK_CONFIG = "config/demo.yaml"
FULL_CONFIG = "config/demo-full.yaml"
# The generator's own options, passed when set (null / absent: the generator's default).
GENERATOR_OPTIONS = {
    "dance": ("width", "height", "music", "music_packages", "dance_styles", "figures"),
    "lips": ("width", "height", "motion", "clip_seconds"),
}
GENERATOR_COMMANDS = {"dance": "synth", "lips": "lips-synth"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        default=None,
        help=f"the demo's workflow config (default: {QUICK_CONFIG}, with --full {FULL_CONFIG})",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"the full demo ({FULL_CONFIG}): 80 videos, 14 minutes of training, about an hour on 2 cores",
    )
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores")
    parser.add_argument("--server-timeout", type=float, default=30, help="seconds to wait for the server")
    parser.add_argument(
        "--report",
        default="results/report.html",
        metavar="PATH",
        help="where the HTML report (figures, tables, captions) is written after a successful run, "
        "relative to the demo's working directory (default: %(default)s; an empty PATH: no report)",
    )
    parser.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="further snakemake arguments (after --)")


def demo_settings(configfile: Path) -> dict:
    """The `demo:` section of a workflow config, with defaults (lips: clip_seconds from media:)."""
    if not configfile.exists():
        raise UserInputError(f"config file not found: {configfile}")
    config = yaml.safe_load(configfile.read_text(encoding="utf-8")) or {}
    if "demo" not in config:
        raise UserInputError(f"{configfile} has no 'demo:' section")
    settings = {**DEMO_DEFAULTS, **config["demo"]}
    if settings["generator"] not in GENERATOR_COMMANDS:
        raise UserInputError(f"{configfile}: demo.generator {settings['generator']!r} is not one of dance, lips")
    clip_seconds = (config.get("media") or {}).get("clip_seconds")
    if settings["generator"] == "lips" and clip_seconds is not None:
        settings["clip_seconds"] = clip_seconds
    return settings


def generator_command(corpus: Path, synth: dict) -> list[str]:
    """The `alignnet synth` / `alignnet lips-synth` command line that makes the corpus of `synth` settings."""
    generator = synth.get("generator", "dance")
    cmd = [sys.executable, "-m", "alignnet", GENERATOR_COMMANDS[generator], str(corpus)]
    cmd += ["--videos", str(synth["videos"]), "--seconds", str(synth["seconds"]), "--seed", str(synth["seed"])]
    cmd += ["--negatives", str(synth["negatives"])] + (["--warp"] if synth["warp"] else [])
    for key in GENERATOR_OPTIONS[generator]:
        value = synth.get(key)
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", ",".join(value) if isinstance(value, list) else str(value)]
    return cmd


def ensure_corpus(settings: dict) -> Path:
    """Generate the corpus unless one made with the same settings is there."""
    corpus = Path(settings["corpus_dir"])
    generator = settings.get("generator", "dance")
    keys = [*SYNTH_DEFAULTS, *GENERATOR_OPTIONS[generator]]
    synth = {key: settings[key] for key in keys if key in settings}
    if generator != "dance":
        synth["generator"] = generator
    stamp = corpus / ".demo-settings.json"
    if stamp.exists() and json.loads(stamp.read_text()) == synth and (corpus / "corpus.json").exists():
        log.info("demo corpus in %s is up to date", corpus)
        return corpus
    cmd = generator_command(corpus, synth)
    log.info("generating the demo corpus: %s", " ".join(cmd[2:]))
    subprocess.run(cmd, check=True)
    stamp.write_text(json.dumps(synth) + "\n")
    return corpus


def start_server(corpus: Path, port: int, timeout: float) -> tuple[subprocess.Popen, str]:
    """Start `alignnet serve-corpus` and wait until it serves."""
    url_file = Path(tempfile.mkdtemp(prefix="alignnet-demo-")) / "url"
    cmd = [sys.executable, "-m", "alignnet", "serve-corpus", str(corpus), "--port", str(port)]
    server = subprocess.Popen(cmd + ["--url-file", str(url_file)])
    deadline = time.monotonic() + timeout
    while not url_file.exists() or not url_file.read_text().strip():
        if server.poll() is not None:
            raise UserInputError(
                f"the corpus server exited with {server.returncode}: is port {port} in use, perhaps by another demo "
                "run? Wait for it to finish (two runs in one directory cannot run at once), or stop it first"
            )
        if time.monotonic() > deadline:
            server.kill()
            raise UserInputError(f"the corpus server did not start within {timeout:.0f} s")
        time.sleep(0.1)
    return server, url_file.read_text().strip()


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def snakemake_command(configfile: Path, cores: int, snakemake_args: Sequence[str]) -> list[str]:
    """The snakemake command line of the demo: its config, its cores, then the user's arguments (a "--" dropped).

    --configfile takes several values, so it comes first: a target rule the
    user names (`alignnet demo -- split`) must not be read as one more config file.
    --rerun-incomplete makes a run after a hard stop (power loss, a killed
    session) redo the jobs it left half-written instead of refusing to start.
    """
    extra = [a for a in snakemake_args if a != "--"]
    return ["snakemake", "--configfile", str(configfile), "--cores", str(cores), "--rerun-incomplete", *extra]


# snakemake options after which the run made nothing to report
NOT_A_RUN = frozenset({"-n", "--dry-run", "--dryrun", "--unlock", "-t", "--touch", "--list-rules", "-l"})


def report_command(configfile: Path, snakemake_args: Sequence[str], report: str) -> list[str] | None:
    """The `snakemake --report` command line for the run of `snakemake_args`, or None where there is none to make.

    The user's arguments (targets, --snakefile, --directory) go along, so the
    report covers the workflow and the targets that ran.
    """
    extra = [a for a in snakemake_args if a != "--"]
    if not report or NOT_A_RUN & set(extra):
        return None
    return ["snakemake", "--configfile", str(configfile), "--report", report, *extra]


def lock_hint(workdir: Path) -> str | None:
    """What to do when snakemake stopped while `workdir` is locked (another run holds it, or a killed one left it)."""
    locks = workdir / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return None
    return (
        f"alignnet demo: {workdir.resolve()} is locked by another snakemake run. If one is still running, wait for "
        "it to finish: two runs cannot share a directory. If none is (a killed run left its lock), run "
        "`bash scripts/demo.sh -- --unlock`, then the demo again; it picks up where the first stopped."
    )


def _minutes(value: float | None) -> str:
    return "no limit" if value is None else f"{value:g} min"


def plan_text(config: dict, settings: dict, configfile: Path, cores: int) -> str:
    """What the demo of `config` will run and about how long it takes, said before it starts."""
    train, syncnet, ablation = config.get("train", {}), config.get("syncnet", {}), config.get("ablation", {})
    splits, retarget = config.get("splits", {}), config.get("retarget", {})
    lines = [
        f"alignnet demo: {configfile}, {cores} cores, working directory {settings['workdir']}",
        f"  1. generate {settings['videos']} {settings['generator']} videos of {settings['seconds']:g} s "
        f"(a share of {settings['negatives']:g} that the filters must reject) into {settings['corpus_dir']} "
        f"and serve them on 127.0.0.1:{settings['port']}",
        "  2. discover, download, clip, pose, filter, clean, log-mel and split them "
        f"(at most {splits.get('train', '?')} / {splits.get('val', '?')} / {splits.get('test', '?')} "
        "train / val / test clips)",
        f"  3. train AlignNet ({train.get('epochs', '?')} x {train.get('steps_per_epoch', '?')} steps, "
        f"{_minutes(train.get('max_minutes'))}) and SyncNet ({_minutes(syncnet.get('max_minutes'))}); evaluate "
        f"them; the ablation ladder ({len(ablation.get('variants', []))} variants, "
        f"{_minutes(ablation.get('max_minutes'))} each)",
        f"  4. re-time videos to another's music ({len(retarget.get('pairs', []))} pairs), draw the figures, "
        "write the report",
    ]
    if settings["minutes"] is not None:
        lines.append(f"about {settings['minutes']:g} minutes on 2 CPU cores once set up (a rerun skips what is done)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.full and args.configfile is not None:
        raise UserInputError("give --full or --configfile, not both")
    configfile = Path(args.configfile or (FULL_CONFIG if args.full else QUICK_CONFIG))
    settings = demo_settings(configfile)
    config = yaml.safe_load(configfile.read_text(encoding="utf-8"))
    print(plan_text(config, settings, configfile, args.cores), flush=True)
    workdir = Path(settings["workdir"])
    snakemake_args = list(args.snakemake_args)
    if workdir != Path("."):
        snakemake_args += ["--directory", str(workdir)]
    corpus = ensure_corpus(settings)
    server, url = start_server(corpus, int(settings["port"]), args.server_timeout)
    log.info("serving the demo corpus at %s", url)
    cmd = snakemake_command(configfile, args.cores, snakemake_args)
    report_path = str((workdir / args.report).resolve()) if args.report else ""
    try:
        bindir = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        status = subprocess.run(cmd, env=env, check=False).returncode
        if status != 0 and (hint := lock_hint(workdir)) is not None:
            print(hint, file=sys.stderr, flush=True)
        report = report_command(configfile, snakemake_args, report_path)
        if status == 0 and report is not None:
            status = subprocess.run(report, env=env, check=False).returncode
            if status == 0:
                print(
                    f"alignnet demo: done. The report: {report_path} (open it in a browser); "
                    f"the results: {workdir.resolve() / 'results'}",
                    flush=True,
                )
        return status
    finally:
        stop_server(server)
