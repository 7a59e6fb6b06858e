"""The demo workflow's data stages through a real single-node SLURM, against a local run.

A session fixture starts the test cluster of tests/slurm_cluster (munge,
mariadb + slurmdbd, slurmctld, slurmd with a GPU gres on /dev/null) and stops
it at the end. A tiny demo corpus (`alignnet synth`: 3 videos x 8 s, clipped at 15 fps) is
served on loopback and run up to results/dataset/summary.json twice: locally, and with
`--profile workflow/profiles/slurm` (account and partitions from the
ALIGNNET_SLURM_* variables the profile reads). The outputs must be equal, and
SLURM's accounting must show the GPU the profile asks for the pose jobs.
Fails, not skips, where the Debian packages are missing: scripts/test.sh
installs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alignnet.demo.command import start_server, stop_server
from tests.corpus_fixtures import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slurm_cluster.cluster import Cluster, missing_packages, start, stop

REPO = Path(__file__).resolve().parent.parent
TARGET = "results/dataset/summary.json"
pytestmark = [pytest.mark.slow, pytest.mark.slurm]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Cluster:
    missing = missing_packages()
    assert not missing, f"install the SLURM test packages: bash scripts/setup.sh {' '.join(missing)}"
    root = tmp_path_factory.mktemp("slurm")
    try:
        yield start(root)
    finally:
        stop(root)


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory) -> Path:
    """config/demo.yaml for a corpus of 3 good videos x 8 s (one 6-s clip each) at 15 fps."""
    work = tmp_path_factory.mktemp("slurm-demo")
    corpus = work / "corpus"
    cmd = [
        sys.executable,
        "-m",
        "alignnet",
        "synth",
        str(corpus),
        "--videos",
        "3",
        "--seconds",
        "8",
        "--negatives",
        "0",
        "--no-progress",
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    config = yaml.safe_load((REPO / "config/demo.yaml").read_text())
    config["demo"].update(videos=3, seconds=8, negatives=0, corpus_dir=str(corpus))
    config["media"] = {"fps": 15}
    config["splits"].update(train=1, val=1, test=1)
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_workflow(
    config: Path, workdir: Path, extra: list[str], env: dict[str, str], target: str = TARGET
) -> subprocess.Popen:
    """Start snakemake up to `target` in `workdir` with `config`; output goes to workdir.parent/<name>.log."""
    workdir.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--configfile",
        str(config),
        "--snakefile",
        str(REPO / "workflow/Snakefile"),
        "--directory",
        str(workdir),
        *extra,
        target,
    ]
    with open(workdir.parent / f"{workdir.name}.log", "wb") as log:
        return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)


def finish(run: subprocess.Popen, workdir: Path, timeout: float = 1500) -> None:
    try:
        run.wait(timeout=timeout)
    finally:
        if run.poll() is None:
            run.terminate()
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:  # snakemake waits on a job it wrongly believes running
                run.kill()
                run.wait()
    log = (workdir.parent / f"{workdir.name}.log").read_text(errors="replace")
    assert run.returncode == 0, f"snakemake in {workdir} exited with {run.returncode}:\n{log[-8000:]}"


PROFILE = ["--profile", str(REPO / "workflow/profiles/slurm"), "--slurm-init-seconds-before-status-checks", "1"]


def environments(cluster: Cluster) -> tuple[dict[str, str], dict[str, str]]:
    """The environments of a local run and of a run through the profile on `cluster`."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "OMP_NUM_THREADS": "1"}
    slurm_env = {
        **env,
        **cluster.env(),
        "PATH": path,
        "ALIGNNET_SLURM_ACCOUNT": cluster.account,
        "ALIGNNET_SLURM_PARTITION": cluster.partition,
        "ALIGNNET_SLURM_GPU_PARTITION": cluster.partition,
    }
    return env, slurm_env


@contextlib.contextmanager
def served(demo_config: Path) -> Iterator[None]:
    """The demo corpus served on loopback, and `demo_config`'s sources pointed at it."""
    config = yaml.safe_load(demo_config.read_text())
    server, url = start_server(Path(config["demo"]["corpus_dir"]), free_port(), timeout=30)
    try:
        config["sources"] = [f"{url.rstrip('/')}/feed.xml"]
        demo_config.write_text(yaml.safe_dump(config))
        yield
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def runs(cluster, demo_config) -> dict[str, Path]:
    """Working directories of a local run and a SLURM run (side by side) of one corpus served on loopback."""
    base = demo_config.parent
    env, slurm_env = environments(cluster)
    with served(demo_config):
        slurm = start_workflow(demo_config, base / "slurm", PROFILE, slurm_env)
        local = start_workflow(demo_config, base / "local", ["--cores", "1"], env)
        finish(local, base / "local")
        finish(slurm, base / "slurm")
    return {"local": base / "local", "slurm": base / "slurm"}


def slurm_jobs(cluster: Cluster) -> pd.DataFrame:
    """Every job the cluster accounted: id, the executor's comment, requested and allocated TRES."""
    fields = ["JobID", "Comment", "State", "ReqTRES", "AllocTRES"]
    out = cluster.run(
        "sacct", "-X", "--parsable2", "--noheader", "--starttime", "2000-01-01", f"--format={','.join(fields)}"
    ).stdout
    return pd.DataFrame([line.split("|") for line in out.splitlines()], columns=fields)


def test_cluster_runs_a_gpu_job(cluster):
    out = cluster.run(
        "srun", "-A", cluster.account, "--gpus=1", "--mem=100", "sh", "-c", "echo $CUDA_VISIBLE_DEVICES"
    ).stdout
    assert out.strip() == "0"


def test_every_stage_ran_through_slurm(runs, cluster):
    jobs = slurm_jobs(cluster)
    rules = {comment.split("_wildcards_")[0] for comment in jobs["Comment"]}
    assert {"rule_discover", "rule_pose_video", "rule_split", "rule_summary"} <= rules, rules
    # A group job's comment is rule_<group>_<its rules>: one job each for the 3 videos' small jobs.
    assert "rule_fetch_clip_video_download_video_fingerprint_video_logmel_video" in rules, rules
    assert "rule_judge_clean_video_filter_video" in rules, rules
    assert set(jobs["State"]) == {"COMPLETED"}, jobs.to_string()
    assert (runs["slurm"] / TARGET).exists()


def test_pose_jobs_got_a_gpu(runs, cluster):
    jobs = slurm_jobs(cluster)
    pose = jobs[jobs["Comment"].str.startswith("rule_pose_video_")]
    assert len(pose) == 3, jobs.to_string()
    assert pose["AllocTRES"].str.contains("gres/gpu=1").all(), pose.to_string()
    others = jobs[jobs["Comment"].str.match(r"(rule|group)_") & ~jobs.index.isin(pose.index)]
    assert not others["AllocTRES"].str.contains("gres/gpu").any(), others.to_string()
    job_id = pose["JobID"].iloc[0]
    shown = cluster.run("scontrol", "show", "job", job_id).stdout
    assert "TresPerJob=gres:gpu:1" in shown, shown


def test_keypoints_equal_local(runs):
    local = sorted((runs["local"] / "results/keypoints").glob("*.parquet"))
    assert len(local) == 3
    for path in local:
        other = runs["slurm"] / "results/keypoints" / path.name
        pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(other), check_exact=True)


def test_logmel_equal_local(runs):
    local = sorted((runs["local"] / "results/logmel").glob("*.npz"))
    assert len(local) == 3
    for path in local:
        with np.load(path) as a, np.load(runs["slurm"] / "results/logmel" / path.name) as b:
            assert sorted(a.files) == sorted(b.files), path.name
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{path.name}:{key}")


def test_splits_equal_local(runs):
    splits = Path("results/dataset/splits")
    local = pd.read_csv(runs["local"] / splits / "splits.tsv", sep="\t")
    assert set(local["split"]) >= {"train"}
    pd.testing.assert_frame_equal(local, pd.read_csv(runs["slurm"] / splits / "splits.tsv", sep="\t"))
    verdicts = Path("results/filter/verdicts.tsv")
    assert (runs["local"] / verdicts).read_text() == (runs["slurm"] / verdicts).read_text()


def running_job(cluster: Cluster, comment_prefix: str, run: subprocess.Popen, timeout: float = 600) -> str:
    """The id of a RUNNING job whose executor comment starts with `comment_prefix`, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        queue = cluster.run("squeue", "-h", "-t", "RUNNING", "-o", "%i|%k").stdout.split()
        found = [line.split("|")[0] for line in queue if line.split("|", 1)[1].startswith(comment_prefix)]
        if found:
            return found[0]
        assert run.poll() is None, f"the workflow ended ({run.returncode}) before a {comment_prefix} job ran"
        assert time.monotonic() < deadline, f"no running {comment_prefix} job within {timeout} s"
        time.sleep(0.5)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.npz"))}


@pytest.mark.faults
@pytest.mark.xfail(
    run=False,
    strict=True,
    reason=(
        "snakemake-executor-plugin-slurm 2.8.0 compares sacct's State with 'CANCELLED', but a job ended by scancel "
        "reads 'CANCELLED by <uid>': the job is never seen as ended, the run waits on it for ever (Ctrl-C too). "
        "Run it with --runxfail (about 10 minutes on 2 shared cores) once the plugin is fixed; docs/reliability.md"
    ),
)
def test_a_pose_job_cancelled_by_slurm_is_retried_and_its_poses_equal_a_local_run(cluster, demo_config, tmp_path):
    """scancel of a running pose job (an admin, a preemption): the executor sees it CANCELLED, the profile's
    retries submit it again, the run completes; a rerun has nothing to do; the poses equal a local run's."""
    env, slurm_env = environments(cluster)
    with served(demo_config):
        slurm = start_workflow(demo_config, tmp_path / "slurm", PROFILE, slurm_env, target="pose")
        cancelled = running_job(cluster, "rule_pose_video", slurm)
        cluster.run("scancel", cancelled)
        local = start_workflow(demo_config, tmp_path / "local", ["--cores", "1"], env, target="pose")
        finish(local, tmp_path / "local")
        finish(slurm, tmp_path / "slurm", timeout=900)
        rerun = start_workflow(demo_config, tmp_path / "slurm", PROFILE, slurm_env, target="pose")
        finish(rerun, tmp_path / "slurm")
    log = (tmp_path / "slurm.log").read_text(errors="replace")
    assert "Nothing to be done" in log, log[-3000:]
    jobs = slurm_jobs(cluster)
    comment = jobs.loc[jobs["JobID"] == cancelled, "Comment"].iloc[0]
    states = jobs.loc[jobs["Comment"] == comment, "State"].tolist()
    assert states[0].startswith("CANCELLED") and states[-1] == "COMPLETED", jobs.to_string()
    local_poses = _hashes(tmp_path / "local/results/pose")
    assert len(local_poses) == 3 and _hashes(tmp_path / "slurm/results/pose") == local_poses


def test_second_start_is_clean(cluster):
    """Stop ends every daemon by pid; a fresh start on the same directory works (last: it restarts)."""
    pids = {p.stem: int(p.read_text()) for p in (cluster.root / "run").glob("*.started.pid")}
    assert len(pids) == 5, pids
    stop(cluster.root)
    for name, pid in pids.items():
        state = Path(f"/proc/{pid}/stat")
        assert not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] == "Z", name
    again = start(cluster.root)
    assert again.run("srun", "-A", again.account, "--mem=100", "true").returncode == 0
