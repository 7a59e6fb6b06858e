"""AlignNet speed: inference clips/s, training step time, parameter count, peak memory.

Usage: python benchmarks/model_speed.py [--device cpu|cuda] [--batch 32] [--frames 180] [--audio 516] [--repeats 10]
                                      [--finest-depth N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import torch

from alignnet.losses import alignment_loss
from alignnet.models import AlignNet, AlignNetConfig
from alignnet.training.optimizer import adam


def _timed(fn, repeats: int, device: torch.device) -> float:
    """Mean seconds per call after two warm-up calls."""
    for _ in range(2):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--frames", type=int, default=180)
    parser.add_argument("--audio", type=int, default=516)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--finest-depth",
        type=int,
        default=AlignNetConfig.pyramid_depths[0],
        help="conv blocks at the finest pyramid level (as alignnet train --finest-depth)",
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = AlignNet(pyramid_depths=AlignNetConfig.depths_with_finest(args.finest_depth)).to(device)
    video = torch.randn(args.batch, 76, args.frames, device=device)
    audio = torch.randn(args.batch, 128, args.audio, device=device)
    target = torch.linspace(-0.9, 0.9, args.frames, device=device).expand(args.batch, -1)
    optimizer = adam(model.parameters(), 3e-4)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    def infer() -> None:
        with torch.inference_mode(), autocast:
            model.eval()(video, audio)

    def train_step() -> None:
        model.train()
        with autocast:
            output = model(video, audio)
        loss, _ = alignment_loss(output, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    infer_s = _timed(infer, args.repeats, device)
    step_s = _timed(train_step, args.repeats, device)
    params = sum(p.numel() for p in model.parameters())
    if device.type == "cuda":
        peak = f"{torch.cuda.max_memory_allocated(device) / 2**20:.1f} MiB (torch.cuda.max_memory_allocated)"
    else:
        peak = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB (max RSS of the process)"
    print(
        f"device: {device} ({torch.get_num_threads()} CPU threads), batch {args.batch}, "
        f"{args.frames} video / {args.audio} audio frames"
    )
    print(f"parameters: {params:,}")
    print(f"inference: {args.batch / infer_s:.1f} clips/s ({infer_s * 1000:.1f} ms per batch)")
    print(f"train step: {step_s * 1000:.1f} ms ({args.batch / step_s:.1f} clips/s)")
    print(f"peak memory: {peak}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
