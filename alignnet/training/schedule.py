"""Learning-rate schedules: the share of the peak learning rate at a point of a run.

A run's progress is the larger of its share of the planned optimiser steps and
its share of the time budget (`--max-minutes`), so a run cut short by its
budget still ends on a low learning rate instead of in mid-stride.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LR_SCHEDULES = ("cosine", "constant")


def lr_factor(schedule: str, progress: float) -> float:
    """Multiplier of the peak learning rate at `progress` (0 = start, 1 = end; clipped to [0, 1]).

    cosine: 1 at the start, half-way at 0.5, 0 at the end (half a cosine wave);
    constant: always 1 (the paper's Adam at a fixed rate).
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"learning-rate schedule {schedule!r}: choose one of {', '.join(LR_SCHEDULES)}")
    if schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))


@dataclass(frozen=True)
class RunPlan:
    """What a run plans to do: `total_steps` optimiser steps within `budget_seconds` (None: no time limit)."""

    total_steps: int
    budget_seconds: float | None = None

    def progress(self, steps_done: int, time_share: float = 0.0) -> float:
        """Share of the run done in [0, 1]: the larger of the share of steps and `time_share` (see below)."""
        return min(max(steps_done / max(self.total_steps, 1), time_share), 1.0)

    def time_share(self, seconds_used: float) -> float:
        """Share of the time budget used (0 without a budget)."""
        return seconds_used / self.budget_seconds if self.budget_seconds else 0.0
