"""The optimiser every training here uses: Adam, fused.

Fused Adam updates all parameters in one kernel per step instead of a dozen
tensor operations per parameter: on the 2-core CPU, the update of AlignNet's
343,098 parameters takes 0.8 ms instead of 3.8 ms (2 threads). The update is
the same Adam.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def adam(parameters: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Adam:
    """Adam at learning rate `lr`, fused where torch has a fused kernel for the parameters' device."""
    parameters = list(parameters)
    devices = {p.device.type for p in parameters}
    fused = bool(parameters) and devices <= {"cpu", "cuda"} and all(p.is_floating_point() for p in parameters)
    return torch.optim.Adam(parameters, lr=lr, fused=fused or None)
