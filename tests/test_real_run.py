"""`config.yaml` (and config/lips.yaml) as a user runs them, with the strict OpenPose stand-in.

The rules' own commands, printed by a snakemake dry-run of the shipped config
(only the manifest and the OpenPose folders replaced), are run as they are.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from alignnet.cli import main
from alignnet.pose.sequence import PoseSequence
from tests.test_pose import STAND_IN, make_video, stand_in_models
from tests.test_workflow import write_manifest

REPO = Path(__file__).resolve().parent.parent


def user_config(configfile: str, tmp_path: Path, **overrides: object) -> Path:
    """`configfile` as shipped, but for the manifest and OpenPose's model folder (the stand-in's)."""
    config = yaml.safe_load((REPO / configfile).read_text(encoding="utf-8"))
    config["pose"].update(model_folder=str(stand_in_models(tmp_path / "models")), python_path=str(STAND_IN))
    config.update(overrides)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def dry_run(config: Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    cmd = ["snakemake", "--snakefile", str(REPO / "workflow/Snakefile"), "--directory", str(cwd), "-n", "-p"]
    result = subprocess.run(
        [*cmd, *args, "--configfile", str(config)], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def shell_command(plan: str, program: str) -> str:
    """The one shell command of a dry-run's plan that starts with `program`."""
    lines = [line.removeprefix("Shell command: ") for line in plan.splitlines()]
    found = [line for line in lines if line.startswith(program + " ")]
    assert len(found) == 1, plan[-3000:]
    return found[0]


@pytest.mark.parametrize("configfile", ["config.yaml", "config/lips.yaml"])
def test_pose_rule_of_the_shipped_config_runs(configfile: str, tmp_path: Path) -> None:
    """#35 item 1: the pose job's command line, with the config's own net_resolution, starts and runs."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1"])
    config = user_config(configfile, tmp_path, manifest=str(manifest))
    command = shell_command(dry_run(config, tmp_path, "results/pose/a1.npz"), "alignnet pose")
    (tmp_path / "results/clips/a1").mkdir(parents=True)
    make_video(tmp_path / "results/clips/a1/video.mp4", 160, 120, 3)
    (tmp_path / "logs/pose").mkdir(parents=True)
    result = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "logs/pose/a1.log").read_text()
    assert result.returncode == 0, log[-3000:]
    sequence = PoseSequence.load(tmp_path / "results/pose/a1.npz")
    assert sequence.n_frames == 3 and "failed" not in sequence.meta, sequence.meta
    assert sequence.backend == "openpose" and np.all(sequence.people == 0)
    assert "--net-resolution=-1x368" in shlex.split(command)


@pytest.mark.parametrize("bad", ["368", "-1x-1", "-1x360", "axb"])
def test_bad_net_resolution_is_named_before_openpose_starts(bad: str, tmp_path: Path, capsys) -> None:
    video = make_video(tmp_path / "v.mp4", 160, 120, 2)
    models = stand_in_models(tmp_path / "models")
    args = ["pose", str(video), "-o", str(tmp_path / "p.npz"), "--backend", "openpose", "--model-folder", str(models),
            "--python-path", str(STAND_IN), f"--net-resolution={bad}"]  # fmt: skip
    assert main(args) == 2
    assert f"net resolution {bad!r}" in capsys.readouterr().err


def planned_jobs(plan: str) -> list[tuple[str, str]]:
    """(rule, its resources line) of every job block of a dry-run's output."""
    return re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", plan, flags=re.MULTILINE)


def test_dry_run_of_config_yaml_bounds_gpu_jobs_and_downloads(tmp_path: Path) -> None:
    """#35 item 5: `snakemake -n --cores 16` of config.yaml with a manifest on a machine with 2 GPUs."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, [f"v{i}" for i in range(4)])
    args = ["--cores", "16", "--config", f"manifest={manifest}"]
    plan = dry_run(REPO / "config.yaml", tmp_path, *args, env={"CUDA_VISIBLE_DEVICES": "0,1"})
    assert "Local run: at most 2 GPU job(s) at once (GPUs seen: 2, each job pinned to one), 3 download(s) at once" in plan
    jobs = planned_jobs(plan)
    pose = [res for rule, res in jobs if rule == "pose_video"]
    downloads = [res for rule, res in jobs if rule == "download_video"]
    assert len(pose) == len(downloads) == 4
    assert all(res.endswith("gpu=1") for res in pose) and all(res.endswith("downloads=1") for res in downloads)
    for command in re.findall(r"^Shell command: (alignnet download .*)$", plan, flags=re.MULTILINE):
        assert "--sleep-interval 10 --max-sleep-interval 20 --sleep-requests 0.75" in command
    # --resources wins over the machine's count
    plan = dry_run(REPO / "config.yaml", tmp_path, *args, "--resources", "gpu=1", "downloads=1")
    assert "at most 1 GPU job(s) at once (GPUs seen: 0, each job pinned to one), 1 download(s) at once" in plan


def test_discovery_gets_the_cookies_and_the_pause_between_requests(tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    config["download"]["cookies"] = str(cookies)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    command = shlex.split(shell_command(dry_run(path, tmp_path, "results/manifest.tsv"), "alignnet discover"))
    assert command[command.index("--cookies") + 1] == str(cookies)
    assert command[command.index("--sleep-requests") + 1] == "0.75"


def test_retarget_uses_the_pose_backend_and_settings_of_the_training_data(tmp_path: Path) -> None:
    """#35 item 7: config.yaml's retarget runs OpenPose with pose:'s model folder and net resolution."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    config = user_config("config.yaml", tmp_path, manifest=str(manifest))
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["retarget"] = {"pairs": [{"video": "a1", "audio": "b2"}]}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    command = shlex.split(shell_command(dry_run(config, tmp_path, "retarget"), "alignnet align"))
    assert command[command.index("--pose-backend") + 1] == "openpose"
    assert command[command.index("--model-folder") + 1] == data["pose"]["model_folder"]
    assert command[command.index("--python-path") + 1] == data["pose"]["python_path"]
    assert "--net-resolution=-1x368" in command
