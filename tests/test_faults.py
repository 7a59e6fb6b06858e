"""Faults of the machine, with real processes and real signals: nothing lost, nothing half-done.

The stages of a 3-video corpus served on loopback: a full disk (the outputs on
a small tmpfs; needs root to mount it), the site going down mid-run, kill -9 of
Snakemake's process group while each of download, clip, pose, clean, logmel,
split and train runs, Ctrl-C during slow downloads, during pose and during
training. Each ends with a rerun that completes with every video and outputs
byte-identical to an undisturbed run's (training's metrics and TensorBoard
events compared by content: they hold wall-clock times).
Marked `faults`: `pytest -m faults tests/test_faults.py` (see docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from alignnet.demo.corpus_server import CorpusServer
from alignnet.demo.synth.corpus import Options, generate_corpus
from alignnet.stage_status import StageStatus

REPO = Path(__file__).resolve().parent.parent
# config/demo.yaml's splits and training cut to the 3-video corpus and to seconds
FAULTS_CONFIG = REPO / "tests/data/faults-config.yaml"
pytestmark = pytest.mark.faults
TARGETS = ("clip", "logmel")


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def snakemake(work: Path, *args: str) -> list[str]:
    """The command in `work`; the manifest's path is relative, so that a copy of `work` is the same run."""
    return [
        "snakemake",
        "--snakefile",
        str(REPO / "workflow/Snakefile"),
        "--directory",
        str(work),
        *args,
        "--configfile",
        str(REPO / "config/demo.yaml"),
        str(FAULTS_CONFIG),
        "--config",
        "manifest=manifest.tsv",
    ]


def run(work: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake(work, *args), capture_output=True, text=True, timeout=timeout, check=False)


def start(work: Path, *args: str) -> subprocess.Popen:
    """Snakemake in its own process group (as a terminal runs it), SIGINT at its default action."""
    return subprocess.Popen(
        snakemake(work, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"finished before {what}:\n{proc.communicate()[0][-3000:]}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.02)


DATA_OUTPUTS = (
    "resources/videos/*/video.mp4",
    "results/clips/*/*",
    "results/pose/*.npz",
    "results/filter/*.tsv",
    "results/keypoints/*.parquet",
    "results/clean/*.tsv",
    "results/logmel/*.npz",
    "results/dataset/splits/*",
    "results/train/alignnet/*.safetensors",
    "results/train/alignnet/*.json",
)
TRAIN = Path("results/train/alignnet")


def outputs(work: Path) -> dict[str, str]:
    """Every output of the stages by path: SHA-256 of the data (media, clip tables, poses, verdicts, keypoints,
    log-mels, packed splits, checkpoints); training's metrics.csv and TensorBoard scalars by content (the
    bytes hold wall-clock times: seconds per epoch, each event's time, the events file's name)."""
    names = sorted(p for pattern in DATA_OUTPUTS for p in work.glob(pattern))
    found = {str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest() for p in names}
    if (work / TRAIN / "metrics.csv").exists():
        metrics = pd.read_csv(work / TRAIN / "metrics.csv").drop(columns="seconds")
        found[str(TRAIN / "metrics.csv")] = metrics.to_csv(index=False)
    if (work / TRAIN / "tb").is_dir():
        scalars = [
            (
                str(p.relative_to(work)),
                e.step,
                v.tag,
                v.simple_value if v.HasField("simple_value") else v.tensor.float_val[0],
            )
            for p in sorted((work / TRAIN / "tb").iterdir())
            for e in EventFileLoader(str(p)).Load()
            for v in e.summary.value
        ]
        found[str(TRAIN / "tb")] = repr(sorted(s[1:] for s in scalars))
        found["TensorBoard events files"] = str(len({s[0] for s in scalars}))
    return found


def leftovers(work: Path) -> list[Path]:
    """Temporaries and half-written folders anywhere in the outputs."""
    found = [p for d in ("resources", "results") for p in (work / d).rglob(".*")]
    return [p for p in found if p.name != ".snakemake_timestamp"]  # Snakemake's own mark of a finished folder


def failed_records(work: Path) -> list[str]:
    records = []
    for status_file in (*work.glob("resources/videos/*/status.json"), *work.glob("results/clips/*/status.json")):
        status = StageStatus.read(status_file.parent)
        if status is not None and not status.ok:
            records.append(f"{status_file}: {status.reason}: {status.detail}")
    return records


class Site:
    """The corpus and the fixed port its server comes back on after going down."""

    def __init__(self, corpus: Path, ids: list[str], port: int) -> None:
        self.corpus, self.ids, self.port = corpus, ids, port

    def server(self, **kwargs: object) -> CorpusServer:
        return CorpusServer(self.corpus, port=self.port, **kwargs)

    def workdir(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        rows = ["video_id\turl"] + [f"{i}\thttp://127.0.0.1:{self.port}/watch/{i}" for i in self.ids]
        (path / "manifest.tsv").write_text("\n".join(rows) + "\n")
        return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    corpus = tmp_path_factory.mktemp("corpus")
    generate_corpus(
        corpus, 3, Options(seed=7, seconds=7.0, warp=False, negatives=0.0, width=320, height=180), progress=False
    )
    return Site(corpus, sorted(p.stem for p in corpus.glob("demo-*.mp4")), _free_port())


@pytest.fixture(scope="module")
def reference(site: Site, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The outputs of an undisturbed run."""
    work = site.workdir(tmp_path_factory.mktemp("reference"))
    with site.server():
        done = run(work, "--cores", "2", *TARGETS)
    assert done.returncode == 0, done.stderr[-3000:]
    hashes = outputs(work)
    assert sum(k.endswith("video.mp4") for k in hashes) == 2 * len(site.ids)
    return hashes


def _mount_tmpfs(folder: Path, kilobytes: int, remount: bool = False) -> None:
    options = f"{'remount,' if remount else ''}size={kilobytes}k"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True, capture_output=True)


def test_full_disk_fails_jobs_records_no_verdict_and_a_plain_rerun_completes(site, reference, tmp_path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    work = site.workdir(tmp_path / "work")
    disk = tmp_path / "disk"
    disk.mkdir()
    downloads = sum((site.corpus / f"{i}.mp4").stat().st_size for i in site.ids)
    _mount_tmpfs(disk, (downloads + 400_000) // 1024)  # the downloads and one clip's media fit, not all three
    try:
        for name in ("resources", "results"):  # the workflow's outputs on the small disk, logs beside them
            (disk / name).mkdir()
            (work / name).symlink_to(disk / name)
        with site.server():
            full = run(work, "--cores", "1", "--keep-going", *TARGETS)
            assert full.returncode != 0, "the run fits the disk: make it smaller"
            logs = {
                str(p.relative_to(work)): p.read_text() for p in (work / "logs").rglob("*.log")
            }  # download and clip logs share names
            full_logs = [name for name, text in logs.items() if "No space left on device" in text]
            assert full_logs, full.stderr[-3000:]
            assert all("Traceback" not in logs[name] for name in full_logs)
            assert failed_records(work) == [], "a fault of the disk was recorded as a verdict"
            assert leftovers(work) == []
            for clipdir in work.glob("results/clips/*"):  # what was finished (if any) is whole and intact
                assert StageStatus.read(clipdir).ok
                assert all(
                    reference[str(p.relative_to(work))] == h
                    for p, h in ((p, hashlib.sha256(p.read_bytes()).hexdigest()) for p in clipdir.iterdir())
                )
            _mount_tmpfs(disk, 256 * 1024, remount=True)  # space freed
            again = run(work, "--cores", "2", *TARGETS)
        assert again.returncode == 0, again.stderr[-3000:]
        assert outputs(work) == reference
        assert failed_records(work) == [] and leftovers(work) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)


def test_site_down_mid_run_fails_the_downloads_and_a_rerun_after_it_recovers_completes(site, reference, tmp_path):
    work = site.workdir(tmp_path / "work")
    with site.server() as server:
        proc = start(work, "--cores", "1", "download")
        wait_for(lambda: (work / "resources/videos" / site.ids[0] / "status.json").exists(), proc, "a first download")
        server.stop()  # the site goes down; the transfer in flight completes
        output, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, output[-3000:]
    assert failed_records(work) == [], "the site being down was recorded as a verdict on the videos"
    assert leftovers(work) == []
    down = [p.read_text() for p in (work / "logs/download").glob("demo-*.log")]
    assert any("Connection refused" in text and "not of the item" in text for text in down), down
    finished = {p.name for p in (work / "resources/videos").iterdir() if p.is_dir()}
    assert 1 <= len(finished) < len(site.ids)
    with site.server() as server:  # the site is back
        again = run(work, "--cores", "2", *TARGETS)
    assert again.returncode == 0, again.stderr[-3000:]
    assert outputs(work) == reference
    fetched = {r.path.split("/")[-1].removesuffix(".mp4") for r in server.records if r.path.startswith("/videos/")}
    assert fetched == set(site.ids) - finished, "the rerun fetched again a finished video, or missed one"


@pytest.fixture(scope="module")
def finished(site: Site, reference: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working directory of an undisturbed run through training (after `reference` was taken)."""
    work = site.workdir(tmp_path_factory.mktemp("finished"))
    with site.server():
        done = run(work, "--cores", "2", "train")
    assert done.returncode == 0, done.stderr[-3000:]
    found = outputs(work)
    assert {k: v for k, v in found.items() if k in reference} == reference
    assert len(found) > len(reference) and found["TensorBoard events files"] == "1"
    return work


def _logs(pattern: str, text: str = "") -> Callable[[Path], bool]:
    return lambda work: any(text in p.read_text(errors="replace") for p in work.glob(pattern))


def _half_built(staging: str) -> Callable[[Path], bool]:
    def writing(work: Path) -> bool:  # the first job (--cores 1) has written bytes of a file, and not finished
        folder = work / staging
        files = [p for p in folder.rglob("*") if p.is_file() and p.name != "archive.txt"] if folder.is_dir() else []
        return any(p.stat().st_size > 0 for p in files) and not any(p.name == "status.json" for p in files)

    return writing


@dataclass(frozen=True)
class Stage:
    """A stage of the workflow as the interrupting tests meet it."""

    target: str
    writes: tuple[str, ...]  # its outputs and logs: removed from a copy of the finished run, so that its jobs run
    running: Callable[[Path], bool]  # true once one of its jobs is known to run: the moment to signal


STAGES = {
    "download": Stage("download", ("resources/videos", "logs/download"), _half_built("resources/videos")),
    "clip": Stage("clip", ("results/clips", "logs/clip"), _half_built("results/clips")),
    "pose": Stage("pose", ("results/pose", "logs/pose"), _logs("logs/pose/*.log", "frame/s")),  # mid-video
    "clean": Stage("clean", ("results/keypoints", "results/clean", "logs/clean"), _logs("logs/clean/*.log")),
    "logmel": Stage("logmel", ("results/logmel", "logs/logmel"), _logs("logs/logmel/*.log")),
    "split": Stage("split", ("results/dataset", "logs/dataset"), lambda w: any(w.glob("results/dataset/splits/*"))),
    "train": Stage("train", ("results/train", "logs/train"), lambda w: (w / TRAIN / "last.json").exists()),
}  # clean and logmel: the job's log is there (its shell started); split: some packed files are; train: epoch 1 runs


def interrupted_copy(finished: Path, work: Path, stage: Stage) -> Path:
    """A copy of the finished run without `stage`'s outputs and logs."""
    shutil.copytree(finished, work, symlinks=True)
    for name in stage.writes:
        shutil.rmtree(work / name)
    return work


@pytest.mark.parametrize("name", list(STAGES))
def test_kill_9_while_a_stage_writes_then_the_rerun_completes_identically(site, finished, tmp_path, name):
    """SIGKILL of Snakemake's whole process group while one of a stage's jobs runs; download's and clip's
    have their folders half-built. Then --unlock and the rerun (--rerun-incomplete, as scripts/demo.sh runs it)."""
    stage = STAGES[name]
    work = interrupted_copy(finished, tmp_path / "work", stage)
    with site.server(faults={i: "slow" for i in site.ids}, slow_seconds=4.0):
        proc = start(work, "--cores", "1", stage.target)
        wait_for(lambda: stage.running(work), proc, f"a {name} job running")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        for folder in (work / "resources/videos", work / "results/clips"):
            half = [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
            assert all((folder / n / "status.json").exists() for n in half), "a half-built folder looks finished"
        unlock = run(work, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-2000:]
        again = run(work, "--cores", "2", "--rerun-incomplete", stage.target)
    assert again.returncode == 0, again.stderr[-3000:]
    assert outputs(work) == outputs(finished)
    assert leftovers(work) == [], "a temporary of the killed job stayed behind"


def test_ctrl_c_during_slow_downloads_stops_at_once_and_the_rerun_fetches_only_the_rest(site, reference, tmp_path):
    work = site.workdir(tmp_path / "work")
    with site.server(faults={i: "slow" for i in site.ids}, slow_seconds=3.0) as server:
        proc = start(work, "--cores", "1", "download")
        first = work / "resources/videos" / site.ids[0] / "status.json"
        wait_for(
            lambda: first.exists() and any((work / "resources/videos").glob(".*.partial")), proc, "a second download"
        )
        interrupted = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        output, _ = proc.communicate(timeout=60)
        stopped = time.monotonic() - interrupted
        first_run = len(server.records)
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    assert leftovers(work) == [] and failed_records(work) == []
    logs = "".join(p.read_text() for p in (work / "logs/download").glob("*.log"))
    assert "Traceback" not in logs and "KeyboardInterrupt" not in logs, logs[-3000:]
    finished = {p.name for p in (work / "resources/videos").iterdir() if p.is_dir()}
    assert 1 <= len(finished) < len(site.ids), output[-3000:]
    with site.server(faults={i: "slow" for i in site.ids}, slow_seconds=3.0) as server:
        unlock = run(work, "--unlock")
        assert unlock.returncode == 0
        again = run(work, "--cores", "2", *TARGETS)
    assert again.returncode == 0, again.stderr[-3000:]
    assert outputs(work) == reference
    per_video: dict[str, int] = {}
    for record in server.records:
        if record.path.startswith("/videos/"):
            video = record.path.split("/")[-1].removesuffix(".mp4")
            per_video[video] = per_video.get(video, 0) + 1
    assert set(per_video) == set(site.ids) - finished, (per_video, finished, first_run)


@pytest.mark.parametrize("name", ["pose", "train"])
def test_ctrl_c_during_a_stage_stops_at_once_in_one_line_and_the_rerun_completes(site, finished, tmp_path, name):
    """SIGINT to Snakemake's whole process group (a terminal's Ctrl-C) while a pose job is mid-video, or while
    training runs its second epoch."""
    stage = STAGES[name]
    work = interrupted_copy(finished, tmp_path / "work", stage)
    proc = start(work, "--cores", "1", stage.target)
    wait_for(lambda: stage.running(work), proc, f"a {name} job running")
    interrupted = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    stopped = time.monotonic() - interrupted
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    assert proc.returncode != 0, output[-3000:]
    logs = {p.name: p.read_text(errors="replace") for p in (work / f"logs/{name}").glob("*.log")}
    said = [text.rstrip().splitlines()[-1] for text in logs.values() if "interrupted" in text]
    assert said == [f"alignnet {name}: interrupted; nothing half-written was kept"], logs
    assert not any("Traceback" in text or "KeyboardInterrupt" in text for text in logs.values()), logs
    assert leftovers(work) == []
    unlock = run(work, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    again = run(work, "--cores", "2", "--rerun-incomplete", stage.target)
    assert again.returncode == 0, again.stderr[-3000:]
    assert outputs(work) == outputs(finished)
    assert leftovers(work) == []


def test_logmel_on_a_full_disk_ends_in_one_line_and_no_output(site, tmp_path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    clipdir = tmp_path / "clips" / site.ids[0]
    clip = subprocess.run(
        ["alignnet", "clip", str(site.corpus / f"{site.ids[0]}.mp4"), "-o", str(clipdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert clip.returncode == 0, clip.stderr
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount_tmpfs(disk, 8)  # two pages: the log-mels of 7 s do not fit
    try:
        logmel = subprocess.run(
            ["alignnet", "logmel", str(clipdir), "-o", str(disk / "v.npz")], capture_output=True, text=True, check=False
        )
        assert logmel.returncode == 75, logmel.stderr
        assert "No space left on device" in logmel.stderr and "Traceback" not in logmel.stderr
        assert list(disk.iterdir()) == [], "a half-written output or temporary stayed"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)
