#!/usr/bin/env bash
# Snakemake runs this in the new environment once it is created: PySceneDetect
# without its opencv-python, whose cv2 would replace opencv-contrib-python's
# (see requirements-no-deps.txt).
set -euo pipefail
python -m pip install --no-deps scenedetect==0.7.2
