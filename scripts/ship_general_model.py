"""Copy a trained checkpoint into the package as the shipped general model, with its provenance.

    python scripts/ship_general_model.py --checkpoint RUN/best --data DATA_DIR \
        --data-command "alignnet synth DATA_DIR --packed ..." --train-command "alignnet train --data DATA_DIR ..." \
        [--scores heldout.json ...] [--device "CPU, 2 cores"]

Writes alignnet/checkpoints/general/model.safetensors + model.json (the
checkpoint as it is) and provenance.json: the packed dataset's meta.json
(corpus options, pose errors, clip counts), both commands, the commit they ran
at, the epochs, steps and validation metrics of the checkpoint, the training's
wall time (metrics.csv beside it), the device, the safetensors' SHA-256 and the
held-out scores (`benchmarks/align_outside.py --json`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
from pathlib import Path

import pandas as pd

from alignnet.checkpoint import copy_checkpoint
from alignnet.checkpoints import GENERAL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="STEM of the trained checkpoint")
    parser.add_argument("--data", type=Path, required=True, help="the packed dataset it was trained on")
    parser.add_argument("--data-command", required=True)
    parser.add_argument("--train-command", required=True)
    parser.add_argument("--commit", help="the commit both ran at (default: HEAD)")
    parser.add_argument("--device", default="CPU (2 cores)", help="what it was trained on")
    parser.add_argument("--scores", type=Path, nargs="*", default=[], help="benchmarks/align_outside.py --json files")
    parser.add_argument(
        "--low-confidence",
        type=float,
        required=True,
        help="align's low-confidence threshold for this model (recorded in model.json's extra.align), set between "
        "its confidences on matched and on mismatched songs of training material",
    )
    parser.add_argument("--calibration", type=Path, help="the benchmark --json file the threshold was set from")
    args = parser.parse_args()

    meta = copy_checkpoint(args.checkpoint, GENERAL, extra={"align": {"low_confidence": args.low_confidence}})
    metrics = pd.read_csv(args.checkpoint.parent / "metrics.csv")
    commit = args.commit or subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    upto = metrics[metrics["epoch"] <= meta["epoch"]]
    provenance = {
        "checkpoint": {
            "from": str(args.checkpoint),
            "epoch": meta["epoch"],
            "steps": int(upto["steps"].sum()),
            "minutes_to_it": round(float(upto["seconds"].sum()) / 60, 1),
            "metrics": meta["metrics"],
            "epochs_run": len(metrics),
            "steps_run": int(metrics["steps"].sum()) if "steps" in metrics else None,
            "training_minutes": round(float(metrics["seconds"].sum()) / 60, 1),
            "safetensors_sha256": hashlib.sha256(Path(f"{GENERAL}.safetensors").read_bytes()).hexdigest(),
        },
        "device": args.device,
        "commit": commit,
        "data_command": args.data_command,
        "train_command": args.train_command,
        "data": json.loads((args.data / "meta.json").read_text()),
        "heldout_scores": [json.loads(path.read_text()) for path in args.scores],
        "low_confidence": {
            "threshold": args.low_confidence,
            "calibration": json.loads(args.calibration.read_text()) if args.calibration else None,
        },
    }
    out = GENERAL.with_name("provenance.json")
    out.write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {GENERAL}.safetensors, {GENERAL}.json and {out}")


if __name__ == "__main__":
    main()
