"""The paper's design, and this implementation's departures from it, each with its own `alignnet train` switch.

`DEPARTURES` lists every way the default model, loss, inputs, augmentations
and optimiser differ from the paper (section 3 and 4): the `alignnet train`
option (and config `train:` key) that holds it, its default (this project's
choice) and the value that gives the paper's design. `alignnet train --paper`
(config `model: paper`) sets all of them to the paper's values at once;
docs/model.md tables them with their measured effects, and a test holds that
table, this list and the model that `--paper` builds together.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

from alignnet.errors import UserInputError

log = logging.getLogger(__name__)

PAPER_LR = 3e-4  # the paper's Adam learning rate (section 4), also `alignnet train`'s default


@dataclass(frozen=True)
class Departure:
    """One departure: `option` (an `alignnet train` dest, a config `train:` key) at `default` departs from the
    paper; `paper` is the paper's value. `part`: network, loss, inputs, augmentation or optimiser."""

    name: str
    part: str
    option: str
    default: bool | float | str
    paper: bool | float | str
    summary: str  # what the departure adds, e.g. "the full-rate refinement"

    @property
    def flags(self) -> tuple[str, ...]:
        """The command-line words that give the paper's value, e.g. ("--no-fine-refinement",) or
        ("--correlation", "local")."""
        flag = f"--{self.option.replace('_', '-')}"
        return (flag,) if self.paper is True else (flag, _word(self.paper))


def _word(value: bool | float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


DEPARTURES: tuple[Departure, ...] = (
    Departure("pooled_correlation", "network", "correlation", "both", "local", "the pooled correlation pyramid"),
    Departure("pearson_affinity", "network", "affinity", "pearson", "dot", "the affinity's Pearson normalisation"),
    Departure("match_prior", "network", "no_match_prior", False, True, "each level's soft-argmax prior"),
    Departure("coarse_context", "network", "no_coarse_context", False, True, "the coarser levels' context networks"),
    Departure("fine_refinement", "network", "no_fine_refinement", False, True, "the full-rate refinement"),
    Departure("matching_loss", "loss", "matching_weight", 0.3, 0.0, "the matching loss"),
    Departure("body_scaling", "inputs", "per_keypoint_scaling", False, True, "one keypoint scale per body"),
    Departure("tempo_change", "augmentation", "no_tempo_change", False, True, "tempo changes"),
    Departure("timbre_change", "augmentation", "no_timbre_change", False, True, "timbre changes"),
    Departure("band_limit", "augmentation", "no_band_limit", False, True, "low-passes of the music"),
    Departure("cross_clip", "augmentation", "no_cross_clip", False, True, "cross-clip windows"),
    Departure("cosine_schedule", "optimiser", "lr_schedule", "cosine", "constant", "the cosine learning rate"),
    Departure("weight_average", "optimiser", "average_decay", 0.999, 0.0, "the weight average"),
)
PARTS = ("network", "loss", "inputs", "augmentation", "optimiser")


def departure(name: str) -> Departure:
    """The departure called `name` (see DEPARTURES)."""
    for item in DEPARTURES:
        if item.name == name:
            return item
    raise UserInputError(f"departure {name!r}: choose one of {', '.join(d.name for d in DEPARTURES)}")


def add_paper_argument(parser: argparse.ArgumentParser) -> None:
    """`alignnet train --paper` (`apply_paper` reads it)."""
    parser.add_argument(
        "--paper",
        action="store_true",
        help="the paper's design: every departure's switch at the paper's value ("
        + ", ".join(" ".join(d.flags) for d in DEPARTURES)
        + "); a departure's option given with another value than its default or the paper's is an error",
    )


def apply_paper(args: argparse.Namespace) -> argparse.Namespace:
    """`args` with every departure's option at the paper's value if args.paper, else `args` itself.

    An option at a value that is neither its default nor the paper's was asked
    for explicitly and contradicts --paper: an error naming it. A learning rate
    other than the paper's is kept (it sets the budget's pace) with a warning.
    """
    if not args.paper:
        return args
    paper = argparse.Namespace(**vars(args))
    for item in DEPARTURES:
        value = getattr(args, item.option)
        if value not in (item.default, item.paper):
            flag = item.flags[0]
            raise UserInputError(
                f"--paper sets {flag} to {_word(item.paper)} (the paper's {item.name.replace('_', ' ')});"
                f" {flag} {_word(value)} contradicts it"
            )
        setattr(paper, item.option, item.paper)
    if args.lr != PAPER_LR:
        log.warning("--paper with --lr %g: the paper trains at %g", args.lr, PAPER_LR)
    return paper
