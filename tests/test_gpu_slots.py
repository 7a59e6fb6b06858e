"""GPU ids from CUDA_VISIBLE_DEVICES, one GPU claimed per job, and `alignnet pose --backend openpose` pinned."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alignnet.cli import main
from alignnet.gpu_slots import LOCK_DIR_ENV, claim_gpu, visible_gpus
from tests.test_pose import STAND_IN, make_video, stand_in_models


@pytest.mark.parametrize(
    ("value", "ids"),
    [("0,1", ["0", "1"]), ("3", ["3"]), ("", []), ("-1", []), ("2,-1,3", ["2"]), ("GPU-ab, 1", ["GPU-ab", "1"])],
)
def test_visible_gpus_read_as_cuda_does(value: str, ids: list[str]) -> None:
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": value}) == ids


def test_each_claim_gets_a_gpu_no_other_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    with claim_gpu(tmp_path) as first, claim_gpu(tmp_path) as second:
        assert (first, second) == ("3", "5")
    with claim_gpu(tmp_path) as again:
        assert again == "3", "released at the end of the block"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    with claim_gpu(tmp_path) as only, claim_gpu(tmp_path) as same:
        assert only == same == "7", "one visible GPU (SLURM's allotment) is used without a lock"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with claim_gpu(tmp_path) as none:
        assert none is None


def test_openpose_pose_job_is_pinned_to_a_free_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    monkeypatch.setenv(LOCK_DIR_ENV, str(tmp_path / "locks"))
    video = make_video(tmp_path / "v.mp4", 160, 120, 2)
    args = [
        "pose",
        str(video),
        "-o",
        str(tmp_path / "p.npz"),
        "--backend",
        "openpose",
        "--no-progress",
        "--model-folder",
        str(stand_in_models(tmp_path / "models")),
        "--python-path",
        str(STAND_IN),
    ]
    with claim_gpu() as held:  # another pose job holds GPU 3
        assert held == "3"
        assert main(args) == 0
    from openpose import pyopenpose

    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5"
    params = pyopenpose.CONFIGURED[-1]
    assert (params["num_gpu"], params["num_gpu_start"], params["render_pose"]) == ("1", "0", "0")
