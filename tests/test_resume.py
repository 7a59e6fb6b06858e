"""Interrupting the pose stage (SIGINT) and running again redoes no finished video."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from alignnet.demo.corpus_server import CorpusServer
from alignnet.demo.synth.corpus import Options, generate_corpus
from alignnet.stage_status import record_path

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def snakemake_cmd(work: Path, *args: str) -> list[str]:
    return [
        "snakemake",
        "--snakefile",
        str(REPO / "workflow/Snakefile"),
        "--directory",
        str(work),
        *args,
        "--configfile",
        str(REPO / "config/demo.yaml"),
        "--config",
        f"manifest={work / 'manifest.tsv'}",
    ]


def default_sigint() -> None:
    """Ctrl-C's default action in the child: a test run started in the background (`cmd &`) inherits SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def fingerprint(path: Path) -> tuple[int, str]:
    return path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def test_interrupted_pose_stage_resumes_without_redoing_finished_videos(tmp_path):
    corpus = tmp_path / "corpus"
    generate_corpus(
        corpus, 4, Options(seed=5, seconds=7.0, warp=False, negatives=0.0, width=480, height=270), progress=False
    )
    ids = sorted(p.stem for p in corpus.glob("demo-*.mp4"))
    with CorpusServer(corpus) as server:
        rows = ["video_id\turl"] + [f"{i}\t{server.page_url(i)}" for i in ids]
        (tmp_path / "manifest.tsv").write_text("\n".join(rows) + "\n")
        clip = subprocess.run(snakemake_cmd(tmp_path, "--cores", "2", "clip"), capture_output=True, text=True)
    assert clip.returncode == 0, clip.stderr[-3000:]

    pose_dir = tmp_path / "results/pose"
    run = subprocess.Popen(
        snakemake_cmd(tmp_path, "--cores", "1", "pose"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    started = tmp_path / "logs/pose"  # a job's log appears when it starts (--cores 1: one at a time)
    deadline = time.monotonic() + 300
    while len(list(started.glob("*.log"))) < 2 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)  # wait for the second job: the first is finished and recorded
    assert run.poll() is None, "the pose stage finished before it could be interrupted"
    os.killpg(run.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
    output, _ = run.communicate(timeout=120)
    # a finished job's outputs: its poses and, written last, its stage record (alignnet.stage_status)
    finished = {p.name: fingerprint(p) for p in pose_dir.glob("*.npz") if record_path(p).exists()}
    assert 1 <= len(finished) < len(ids), output[-3000:]
    whole = {name for npz in finished for name in (npz, record_path(pose_dir / npz).name)}
    left = sorted(p.name for p in pose_dir.iterdir() if p.name not in whole)
    assert not left, f"half-written pose outputs were left: {left}"

    again = subprocess.run(snakemake_cmd(tmp_path, "--cores", "2", "pose"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(p.stem for p in pose_dir.glob("*.npz")) == ids
    rerun_output = again.stdout + again.stderr  # its job lines say why a job ran again ("reason: ...")
    for name, before in finished.items():
        assert fingerprint(pose_dir / name) == before, f"{name} was redone:\n{rerun_output[-4000:]}"
        assert f"video={Path(name).stem}" not in rerun_output
