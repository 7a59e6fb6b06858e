"""Run the offline demo end to end.

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
# The generator's own options, passed when set (null / absent: the generator's default).
GENERATOR_OPTIONS = {
    "dance": ("width", "height", "music", "music_packages", "dance_styles", "figures"),
    "lips": ("width", "height", "motion", "clip_seconds"),
}
GENERATOR_COMMANDS = {"dance": "synth", "lips": "lips-synth"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configfile", default="config/demo.yaml", help="the demo's workflow config")
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores")
    parser.add_argument("--server-timeout", type=float, default=30, help="seconds to wait for the server")
    parser.add_argument(
        "--report", default="results/report.html", metavar="PATH",
        help="where the HTML report (figures, tables, captions) is written after a successful run "
        "(default: %(default)s; an empty PATH: no report)",
    )  # fmt: skip
    parser.add_argument(
        "snakemake_args", nargs=argparse.REMAINDER, help="further snakemake arguments (after --)"
    )


def demo_settings(configfile: Path) -> dict:
    """The `demo:` section of a workflow config, with defaults (lips: clip_seconds from media:)."""
    if not configfile.exists():
        raise UserInputError(f"config file not found: {configfile}")
    config = yaml.safe_load(configfile.read_text(encoding="utf-8")) or {}
    if "demo" not in config:
        raise UserInputError(f"{configfile} has no 'demo:' section")
    settings = {**SYNTH_DEFAULTS, "generator": "dance", "corpus_dir": "resources/demo/corpus", "port": 18731}
    settings.update(config["demo"])
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
            raise UserInputError(f"the corpus server exited with {server.returncode} (is port {port} in use?)")
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


def run(args: argparse.Namespace) -> int:
    configfile = Path(args.configfile)
    settings = demo_settings(configfile)
    corpus = ensure_corpus(settings)
    server, url = start_server(corpus, int(settings["port"]), args.server_timeout)
    log.info("serving the demo corpus at %s", url)
    cmd = snakemake_command(configfile, args.cores, args.snakemake_args)
    try:
        bindir = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        status = subprocess.run(cmd, env=env, check=False).returncode
        report = report_command(configfile, args.snakemake_args, args.report)
        if status == 0 and report is not None:
            status = subprocess.run(report, env=env, check=False).returncode
            if status == 0:
                log.info("the report: %s", args.report)
        return status
    finally:
        stop_server(server)
