"""The `alignnet` command line: one subcommand per pipeline stage.

Each subcommand lives in its own module (its one-line help is in COMMANDS
below; its docstring is the command's --help description), which defines

    def add_arguments(parser: ArgumentParser) -> None
    def run(args: Namespace) -> int             # the exit status

Modules are imported only when their command runs, so `alignnet --help` and
light commands do not pay for torch or mediapipe imports.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from alignnet import __version__
from alignnet.errors import EnvironmentFault, UserInputError

# command name -> (module, one-line help); order is the pipeline's order.
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("alignnet.demo.synth.command", "generate the demo corpus: dance videos with ground truth"),
    "serve-corpus": ("alignnet.demo.corpus_server.command", "serve a corpus directory as a video site on loopback"),
    "discover": ("alignnet.data.discover_command", "resolve sources into a frozen manifest (yt-dlp flat extraction)"),
    "download": ("alignnet.data.download_command", "download the videos of a manifest with yt-dlp"),
    "fingerprint": ("alignnet.data.fingerprint_command", "audio (Chromaprint) and visual fingerprint of a download"),
    "duplicates": ("alignnet.data.duplicates_command", "re-uploads (mirrored too) and song groups from fingerprints"),
    "clip": ("alignnet.data.clips_command", "normalise a video to constant fps / mono audio and cut clips"),
    "pose": ("alignnet.pose.command", "2D pose (BODY_25) of a video: mediapipe, openpose or openpose-json"),
    "filter": ("alignnet.data.filters_command", "quality verdict per clip: single person, static camera, full body"),
    "clean": ("alignnet.data.clean_command", "clean keypoints of kept clips and write Parquet"),
    "logmel": ("alignnet.data.logmel_command", "128-bin log-mel spectrogram per clip"),
    "split": ("alignnet.data.splits_command", "video- or song-disjoint train/val/test splits and the packed dataset"),
    "summary": ("alignnet.data.summary_command", "dataset counts at every stage"),
    "gather": ("alignnet.data.gather_command", "collect per-video results into one table"),
    "retry-failed": ("alignnet.data.retry_command", "clear retryable failure records: the next run tries them again"),
    "train": ("alignnet.training.command", "train AlignNet"),
    "train-syncnet": (
        "alignnet.baselines.train_command",
        "train the SyncNet baseline (contrastive, keypoints vs log-mel)",
    ),
    "evaluate": ("alignnet.evaluation.command", "every method on the same distorted test clips: AFE, accuracy, time"),
    "ablation": ("alignnet.evaluation.ablation_command", "gather the ablation ladder's results into one table"),
    "figures": ("alignnet.report.command", "the paper's figures from our runs, for the Snakemake report"),
    "align": ("alignnet.align.command", "re-time a dance or speech video so that its motion follows an audio track"),
    "lips-synth": ("alignnet.demo.lips.synth_command", "generate the talking-head demo corpus: speech with visemes"),
    "voxceleb": ("alignnet.data.voxceleb_command", "turn VoxCeleb2 metadata files into a manifest"),
    "demo": ("alignnet.demo.command", "generate the demo corpus, serve it on loopback and run the demo workflow"),
}


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="alignnet",
        description="Dance50 pipeline and AlignNet. Each stage of the Snakemake workflow is one of "
        "these subcommands; they work on plain files outside Snakemake too.",
        epilog=f"commands:\n{lines}\n\nRun `alignnet COMMAND --help` for the options of one command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="alignnet [-h] [--version] [-v] COMMAND [options]",
    )
    parser.add_argument("--version", action="version", version=f"alignnet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("command", nargs="?", help=argparse.SUPPRESS)
    return parser


def build_command_parser(name: str) -> tuple[argparse.ArgumentParser, object]:
    """The argument parser of one subcommand and its module."""
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(
        prog=f"alignnet {name}",
        description=(module.__doc__ or help_).strip(),
        formatter_class=_HelpFormatter,
    )
    module.add_arguments(parser)
    return parser, module


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    # Options before the command belong to `alignnet`; the rest to the command.
    split = next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))
    top_args = top.parse_args(argv[: split + 1])
    if top_args.command is None:
        top.print_help()
        return 0 if argv else 2
    if top_args.command not in COMMANDS:
        top.error(f"unknown command {top_args.command!r}; choose from {', '.join(COMMANDS)}")
    logging.basicConfig(
        level=logging.DEBUG if top_args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    parser, module = build_command_parser(top_args.command)
    args = parser.parse_args(argv[split + 1 :])
    try:
        return int(module.run(args) or 0)
    except UserInputError as exc:
        print(f"alignnet {top_args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except EnvironmentFault as exc:
        print(
            f"alignnet {top_args.command}: error: {exc} (a fault of the machine or network, not of the item:"
            " nothing was recorded; rerun once it is fixed)",
            file=sys.stderr,
        )
        return EnvironmentFault.EXIT_CODE
    except OSError as exc:  # no space, I/O error, permission: the machine's fault, named in one line
        print(f"alignnet {top_args.command}: error: {exc}", file=sys.stderr)
        return EnvironmentFault.EXIT_CODE
    except KeyboardInterrupt:
        print(f"alignnet {top_args.command}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
