"""Learning-rate schedules: the share of the peak learning rate at a point of a run.

A run's progress is its share of the planned optimiser steps. With a time
budget (`--max-minutes`), the plan is fitted to the steps the budget holds at
the rate measured so far (`RunPlan.fitted`), so a run that would be cut short
by its budget still ends on a low learning rate instead of in mid-stride. The
fit is made after the first epoch and made again after every epoch until half
of the budget is used (`REFIT_UNTIL`), from the epochs after the first
(`BudgetFit`): one epoch is a short and noisy measure with the run's start-up
in it, and a plan fitted to it alone once ended a 14-minute run after 12.4.
Once half the budget is gone the plan stays, so the learning rate's decay is
never moved late in the run. When the planned steps fit, the plan stays as it is
and the schedule depends on steps alone: a rerun with the same seed repeats
the run bit for bit, whatever the machine's speed. (An earlier schedule took
the larger of the step share and the time share at every step, and so made
every budgeted run depend on the wall clock.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

LR_SCHEDULES = ("cosine", "constant")
REFIT_UNTIL = 0.5  # share of a time budget after which a run's plan is no longer fitted again


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
        self, steps_done: int, measured_steps: int, measured_seconds: float, seconds_used: float, margin: float = 0.95
    ) -> RunPlan:
        """This plan, or one with fewer steps if the rest of the budget will not hold them all.

        `measured_steps` steps took `measured_seconds` (whole epochs, their
        validation included, which every epoch repeats); `seconds_used` of the
        budget are gone (start-up included, which does not repeat) and
        `steps_done` steps are done (a resumed run's earlier ones included).
        `margin` keeps a little of the budget for the epochs' end. Call it on
        the run's first plan each time, so that a later, truer rate can give
        back steps an earlier fit took away.
        """
        if not self.budget_seconds or measured_seconds <= 0 or measured_steps <= 0:
            return self
        left = max(self.budget_seconds - seconds_used, 0.0)
        holds = steps_done + int(margin * left / measured_seconds * measured_steps)
        return self if holds >= self.total_steps else replace(self, total_steps=max(holds, steps_done))

    def time_share(self, seconds_used: float) -> float:
        """Share of the time budget used (0 without a budget)."""
        return seconds_used / self.budget_seconds if self.budget_seconds else 0.0


@dataclass
class BudgetFit:
    """A run's plan, fitted to its time budget after every epoch until REFIT_UNTIL of the budget is used.

    The first fit reads the run's first epoch; later ones read all the epochs
    after it, whose pace has no start-up in it and grows steadier with each.
    """

    first: RunPlan
    plan: RunPlan = field(init=False)
    fixed: bool = field(default=False, init=False)  # REFIT_UNTIL of the budget is used: the plan stays
    _epochs: int = field(default=0, init=False)
    _steps: int = field(default=0, init=False)  # steps and seconds of the epochs after the first
    _seconds: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.plan = self.first

    @property
    def fitting(self) -> bool:
        """Whether an epoch's end still fits the plan: a budget is set and the plan is not yet fixed."""
        return bool(self.first.budget_seconds) and not self.fixed

    def after_epoch(self, steps_done: int, epoch_steps: int, epoch_seconds: float, seconds_used: float) -> bool:
        """Fit the plan after an epoch of `epoch_steps` steps in `epoch_seconds`; True when it changed."""
        if not self.fitting:
            return False
        if self.first.time_share(seconds_used) >= REFIT_UNTIL:
            self.fixed = True
            return False
        if self._epochs:
            self._steps, self._seconds = self._steps + epoch_steps, self._seconds + epoch_seconds
        self._epochs += 1
        steps, seconds = (self._steps, self._seconds) if self._steps else (epoch_steps, epoch_seconds)
        fitted = self.first.fitted(steps_done, steps, seconds, seconds_used)
        changed, self.plan = fitted != self.plan, fitted
        return changed
