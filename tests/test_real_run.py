"""`config.yaml` (and config/lips.yaml) as a user runs them, with the strict OpenPose stand-in.

The rules' own commands, printed by a snakemake dry-run of the shipped config
(only the manifest and the OpenPose folders replaced), are run as they are.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alignnet.cli import main
from alignnet.data.manifest import read_manifest
from alignnet.demo.corpus_server import CorpusServer
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import StageStatus
from tests.test_download import with_test_extractor
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
        [*cmd, *args, "--configfile", str(config)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
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
    args = [
        "pose",
        str(video),
        "-o",
        str(tmp_path / "p.npz"),
        "--backend",
        "openpose",
        "--model-folder",
        str(models),
        "--python-path",
        str(STAND_IN),
        f"--net-resolution={bad}",
    ]
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
    assert (
        "Local run: at most 2 GPU job(s) at once (GPUs seen: 2, each job pinned to one), 3 download(s) at once" in plan
    )
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


# --- config.yaml through `split`, with the loopback sites and the OpenPose stand-in -------------------------

SECONDS = 61  # config.yaml keeps videos of 60 s to 600 s
SIZE = (160, 120)
# (site, video id, title, seconds): site "tube" is listed by its feed (titles, durations: as YouTube's search),
# "bili" by the tests' loopbacksearch (a URL and an id only: as Bilibili's search). The last two are left
# out by config.yaml's own filters, which need the entries resolved to see their title and duration.
CORPUS = (
    ("tube", "yt_a", "kpop dance cover A", SECONDS),
    ("bili", "bili_c", "翻跳 kpop C", SECONDS),
    ("bili", "bili_d", "kpop dance cover D", SECONDS),
    ("bili", "bili_tut", "kpop dance tutorial", SECONDS),
    ("bili", "bili_short", "kpop dance cover (short)", 20),
)


def make_site_video(path: Path, seconds: float, frequency: int) -> None:
    """A still picture (SMPTE bars: no camera motion, nobody in it) and a tone: the stand-in supplies the dancer."""
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"smptebars=size={SIZE[0]}x{SIZE[1]}:rate=30:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={frequency}:sample_rate=44100:duration={seconds}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    ]
    subprocess.run(cmd, check=True)


# BODY_25 of a dancer facing the camera, 90 px tall in the 120 px frame (pose-formats.md's order).
STANDING = [
    (80, 15),
    (80, 28),
    (70, 30),
    (65, 45),
    (62, 58),
    (90, 30),
    (95, 45),
    (98, 58),
    (80, 60),
    (74, 60),
    (73, 82),
    (72, 104),
    (86, 60),
    (87, 82),
    (88, 104),
    (78, 13),
    (82, 13),
    (75, 14),
    (85, 14),
    (92, 108),
    (90, 108),
    (87, 106),
    (68, 108),
    (70, 108),
    (73, 106),
]


def dancer_frames(n_frames: int) -> list[dict]:
    """The stand-in's sidecar: one dancer swaying and waving, every frame."""
    frames = []
    for i in range(n_frames):
        t = i / 30
        sway, wave = 3 * np.sin(2 * np.pi * t / 2), 8 * np.sin(2 * np.pi * t)
        person = [[x + sway, y + (wave if k in (3, 4, 6, 7) else 0), 0.9] for k, (x, y) in enumerate(STANDING)]
        frames.append({"pose": [person]})
    return frames


@pytest.fixture
def loopback_sites(tmp_path: Path):
    """Two corpus servers: the YouTube-like one's feed URL, the Bilibili-like one's base URL."""
    corpora = {site: tmp_path / site for site in ("tube", "bili")}
    for i, (site, video_id, title, seconds) in enumerate(CORPUS):
        corpora[site].mkdir(exist_ok=True)
        make_site_video(corpora[site] / f"{video_id}.mp4", seconds, 300 + 70 * i)
        sidecar = {"video_id": video_id, "title": title, "uploader": f"dancer_{i}", "duration": seconds}
        (corpora[site] / f"{video_id}.json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    with CorpusServer(corpora["tube"]) as tube, CorpusServer(corpora["bili"]) as bili:
        yield tube, bili


@pytest.mark.slow
def test_config_yaml_runs_to_the_splits_with_openpose(tmp_path: Path, loopback_sites) -> None:
    """#35: config.yaml as a user runs it (sources: the loopback sites; pose.model_folder: the stand-in's)
    through `split` with the strict OpenPose stand-in; checks in the order the stages run, so that each of the
    old defects fails it early (the run takes minutes: slow marker)."""
    tube, bili = loopback_sites
    work = tmp_path / "work"
    work.mkdir()
    sidecar = tmp_path / "keypoints.json"
    sidecar.write_text(json.dumps({"frames": dancer_frames(SECONDS * 30 + 30)}), encoding="utf-8")
    sources = [tube.feed_url, f"loopbacksearch20:{bili.url} 翻跳 kpop"]
    config = user_config("config.yaml", tmp_path, sources=sources)
    env = with_test_extractor({**os.environ, "STAND_IN_OPENPOSE_KEYPOINTS": str(sidecar)})
    snakemake = ["snakemake", "--snakefile", str(REPO / "workflow/Snakefile"), "--directory", str(work)]

    def run(*args: str) -> None:
        result = subprocess.run(
            [*snakemake, *args, "--configfile", str(config)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=2400,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-6000:]

    run("results/manifest.tsv")  # discovery (#35 item 4)
    entries = {e.video_id: e for e in read_manifest(work / "results/manifest.tsv")}
    assert sorted(entries) == ["bili_c", "bili_d", "yt_a"]
    assert entries["bili_c"].title == "翻跳 kpop C" and entries["bili_c"].duration == SECONDS
    with (work / "results/discover/rejects.tsv").open(encoding="utf-8", newline="") as f:
        rejects = {row["url"]: row["reason"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)}
    assert rejects == {
        bili.page_url("bili_tut"): "title_excluded",
        bili.page_url("bili_short"): "duration_out_of_range",
    }

    # one download, then again as snakemake reruns it (--forcerun, --rerun-incomplete, a retry): the output
    # deleted first, the archive listing the video (#35 item 3)
    video = work / "resources/videos/bili_c"
    run(str(video.relative_to(work)))
    run(str(video.relative_to(work)), "--forcerun", str(video.relative_to(work)))
    assert StageStatus.read(video) == StageStatus("download", True)
    assert (video / "video.mp4").read_bytes() == (tmp_path / "bili/bili_c.mp4").read_bytes()

    run("split")  # the pose jobs as config.yaml starts them, the strict stand-in (#35 items 1 and 2)
    for video_id in entries:
        assert StageStatus.read(work / "resources/videos" / video_id) == StageStatus("download", True), video_id
        pose = PoseSequence.load(work / "results/pose" / f"{video_id}.npz")
        assert pose.backend == "openpose" and pose.n_frames == SECONDS * 30 and (pose.people == 1).all(), video_id
    splits = work / "results/dataset/splits"
    meta = json.loads((splits / "meta.json").read_text())
    assert meta["pose_backend"] == "openpose"
    assigned = pd.read_csv(splits / "splits.tsv", sep="\t")
    assert set(assigned["split"]) >= {"train", "val", "test"}
    assert set(assigned["video_id"]) == set(entries)
