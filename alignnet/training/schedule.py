"""Learning-rate schedules: the share of the peak learning rate at a point of a run.

A run's progress is its share of the planned optimiser steps. With a time
budget (`--max-minutes`), the plan is fitted once, after the first epoch, to
the steps the budget holds at the rate measured so far (`RunPlan.fitted`), so
a run that would be cut short by its budget still ends on a low learning rate
instead of in mid-stride. When the planned steps fit, the plan stays as it is
and the schedule depends on steps alone: a rerun with the same seed repeats
the run bit for bit, whatever the machine's speed. (An earlier schedule took
the larger of the step share and the time share at every step, and so made
every budgeted run depend on the wall clock.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

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

    def progress(self, steps_done: int) -> float:
        """Share of the planned steps done, in [0, 1]."""
        return min(steps_done / max(self.total_steps, 1), 1.0)

    def fitted(
        self, steps_done: int, epoch_steps: int, epoch_seconds: float, seconds_used: float, margin: float = 0.95
    ) -> RunPlan:
        """This plan, or one with fewer steps if the rest of the budget will not hold them all.

        The last epoch took `epoch_seconds` for `epoch_steps` steps (its
        validation included, which every epoch repeats); `seconds_used` of the
        budget are gone (start-up included, which does not repeat) and
        `steps_done` steps are done (a resumed run's earlier ones included).
        `margin` keeps a little of the budget for the epochs' end.
        """
        if not self.budget_seconds or epoch_seconds <= 0 or epoch_steps <= 0:
            return self
        left = max(self.budget_seconds - seconds_used, 0.0)
        holds = steps_done + int(margin * left / epoch_seconds * epoch_steps)
        return self if holds >= self.total_steps else replace(self, total_steps=max(holds, steps_done))

    def time_share(self, seconds_used: float) -> float:
        """Share of the time budget used (0 without a budget)."""
        return seconds_used / self.budget_seconds if self.budget_seconds else 0.0
