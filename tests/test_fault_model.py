"""The fault model (alignnet.faults, alignnet.atomic): verdicts or faults, whole outputs, one-line errors.

Fast tests with real files, processes and signals; the end-to-end fault runs are in tests/test_faults.py.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from yt_dlp.utils import DownloadError

from alignnet.cli import main
from alignnet.errors import EnvironmentFault
from alignnet.faults import FailureKind, classify_failure, failed_status
from alignnet.pose.sequence import PoseSequence
from alignnet.stage_status import Reason, StageFailure, StageStatus

REPO = Path(__file__).resolve().parent.parent


def _raised(reason: Reason, detail: str, cause: BaseException | None = None) -> StageFailure:
    """A StageFailure raised `from cause`, as the stages raise them."""
    try:
        raise StageFailure(reason, detail) from cause
    except StageFailure as failure:
        return failure


def _ytdlp_error(inner: BaseException) -> DownloadError:
    """yt-dlp's wrapping of an error met while downloading (the original in exc_info)."""
    try:
        raise inner
    except type(inner):
        return DownloadError(f"ERROR: {inner}", sys.exc_info())


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (_raised(Reason.HTTP_ERROR, "HTTP Error 404: Not Found"), FailureKind.PERMANENT),
        (_raised(Reason.HTTP_ERROR, "HTTP Error 410: Gone"), FailureKind.PERMANENT),
        (_raised(Reason.UNAVAILABLE, "[youtube] abc: Private video. Sign in"), FailureKind.PERMANENT),
        (_raised(Reason.UNAVAILABLE, "[youtube] abc: Video unavailable"), FailureKind.PERMANENT),
        (_raised(Reason.CORRUPT_FILE, "moov atom not found"), FailureKind.PERMANENT),
        (_raised(Reason.TOO_SHORT, "1.00 s of video"), FailureKind.PERMANENT),
        (_raised(Reason.NO_PERSON, "no person in 180 frames"), FailureKind.PERMANENT),
        (_raised(Reason.INVALID_URL, "'ftp://x' is not an http(s) URL"), FailureKind.PERMANENT),
        (_raised(Reason.NETWORK_ERROR, "Connection reset by peer"), FailureKind.RETRYABLE),
        (_raised(Reason.NETWORK_ERROR, "2000 bytes read, 3000 more expected"), FailureKind.RETRYABLE),
        (_raised(Reason.HTTP_ERROR, "HTTP Error 403: Forbidden"), FailureKind.RETRYABLE),
        (_raised(Reason.UNAVAILABLE, "something yt-dlp does not explain"), FailureKind.RETRYABLE),
        (_raised(Reason.HTTP_ERROR, "HTTP Error 500: Internal Server Error"), FailureKind.ENVIRONMENT),
        (_raised(Reason.HTTP_ERROR, "HTTP Error 503: Service Unavailable"), FailureKind.ENVIRONMENT),
        (_raised(Reason.HTTP_ERROR, "HTTP Error 429: Too Many Requests"), FailureKind.ENVIRONMENT),
        (_raised(Reason.NETWORK_ERROR, "[Errno 111] Connection refused"), FailureKind.ENVIRONMENT),
        (_raised(Reason.NETWORK_ERROR, "The read operation timed out"), FailureKind.ENVIRONMENT),
        (
            _raised(Reason.CORRUPT_FILE, "x.mp4: ffmpeg failed: Error writing trailer: No space left on device"),
            FailureKind.ENVIRONMENT,
        ),
        # what the old download stage recorded as `unavailable` on a full disk: the OSError inside yt-dlp's error
        (
            _raised(Reason.UNAVAILABLE, "unable to write", _ytdlp_error(OSError(errno.ENOSPC, "full"))),
            FailureKind.ENVIRONMENT,
        ),
        (_raised(Reason.CORRUPT_FILE, "cannot read", PermissionError(errno.EACCES, "denied")), FailureKind.ENVIRONMENT),
        (_raised(Reason.CORRUPT_FILE, "cannot read", OSError(errno.EIO, "I/O")), FailureKind.ENVIRONMENT),
    ],
)
def test_one_classification_tells_verdicts_from_faults(failure: StageFailure, kind: FailureKind) -> None:
    assert classify_failure(failure) is kind


def test_a_fault_is_never_recorded_a_retryable_failure_is_marked() -> None:
    with pytest.raises(EnvironmentFault, match="No space left on device"):
        failed_status("clip", _raised(Reason.CORRUPT_FILE, "No space left on device"), "clip x")
    status = failed_status("download", _raised(Reason.NETWORK_ERROR, "Connection reset by peer"), "download x")
    assert (status.ok, status.reason, status.retryable) == (False, "network_error", True)
    assert not failed_status("download", _raised(Reason.HTTP_ERROR, "HTTP Error 404"), "x").retryable


_WRITER = """
import sys, time
from pathlib import Path
from alignnet.atomic import atomic_directory, atomic_output
target = Path(sys.argv[1])
if sys.argv[2] == "file":
    with atomic_output(target / "pose.npz") as tmp:
        tmp.write_bytes(b"half")
        print("writing", flush=True)
        time.sleep(60)
else:
    with atomic_directory(target / "clips" / "v1") as staging:
        (staging / "video.mp4").write_bytes(b"half")
        print("writing", flush=True)
        time.sleep(60)
"""


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_write_killed_half_way_leaves_no_output_and_its_rerun_no_temporary(tmp_path: Path, kind: str) -> None:
    """kill -9 during an atomic write: the output is absent (not half there); the next write of it cleans up."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path), kind], stdout=subprocess.PIPE, env=env, text=True
    )
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert not (tmp_path / "pose.npz").exists() and not (tmp_path / "clips" / "v1").exists()
    from alignnet.atomic import atomic_directory, atomic_output

    if kind == "file":
        with atomic_output(tmp_path / "pose.npz") as tmp:
            tmp.write_bytes(b"whole")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["pose.npz"]
    else:
        with atomic_directory(tmp_path / "clips" / "v1") as staging:
            (staging / "video.mp4").write_bytes(b"whole")
        assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["v1"]
        assert (tmp_path / "clips" / "v1" / "video.mp4").read_bytes() == b"whole"


def _faststart_video(path: Path, seconds: float) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=160x120:rate=30:duration={seconds}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
    )
    return path


def test_pose_flags_a_truncated_video_and_refuses_a_directory(tmp_path: Path, capsys) -> None:
    """A cut download decodes to a few frames: a corrupt_file verdict like `alignnet clip`'s, not a short pose."""
    whole = _faststart_video(tmp_path / "whole.mp4", 6.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    out = tmp_path / "cut.npz"
    assert main(["pose", str(cut), "-o", str(out), "--backend", "mediapipe", "--no-progress"]) == 0
    pose = PoseSequence.load(out)
    status = StageStatus.read(out)
    assert pose.n_frames == 0 and status.reason == "corrupt_file" and "truncated" in status.detail
    assert "corrupt_file" in capsys.readouterr().out
    assert main(["pose", str(tmp_path), "-o", str(tmp_path / "dir.npz"), "--backend", "mediapipe"]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and str(tmp_path) in err
    assert not (tmp_path / "dir.npz").exists()


def test_clean_names_a_corrupt_pose_file_in_one_line(tmp_path: Path, capsys) -> None:
    clipdir = tmp_path / "clips"
    StageStatus("clip", True, detail="1 clips").write(clipdir)
    pose = tmp_path / "v.npz"
    np.savez(pose, keypoints=np.zeros((3, 25, 3)))
    pose.write_bytes(pose.read_bytes()[:100])  # a cut write
    verdicts = tmp_path / "v.tsv"
    verdicts.write_text("video_id\tclip_index\tkeep\nv\t0\ttrue\n")
    argv = ["clean", str(clipdir), str(pose), str(verdicts), "--video-id", "v", "-o", str(tmp_path / "v.parquet")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{pose}: not a readable pose file" in err


def test_ctrl_c_ends_a_command_with_one_line(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) to `alignnet download` against a silent server: one line and 130, no traceback."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    port = listener.getsockname()[1]
    manifest = tmp_path / "m.tsv"
    manifest.write_text(f"video_id\turl\nv1\thttp://127.0.0.1:{port}/v1.mp4\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "alignnet",
        "download",
        "--manifest",
        str(manifest),
        "--video-id",
        "v1",
        "-o",
        str(tmp_path / "v1"),
        "--socket-timeout",
        "60",
    ]
    with listener:
        run = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 60
        listener.settimeout(60)
        connection, _ = listener.accept()  # yt-dlp is waiting for the answer now
        while time.monotonic() < deadline and run.poll() is None and not list(tmp_path.glob(".v1.partial")):
            time.sleep(0.05)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=30)
        connection.close()
    assert run.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "interrupted" in err
    assert not (tmp_path / "v1").exists() and not list(tmp_path.glob(".*")), "nothing half-written stays"


def test_retry_failed_removes_exactly_the_retryable_records(tmp_path: Path, capsys) -> None:
    videos = tmp_path / "resources/videos"
    StageStatus("download", True).write(videos / "ok")
    StageStatus("download", False, "http_error", "HTTP Error 404").write(videos / "gone")
    StageStatus("download", False, "network_error", "Connection reset", retryable=True).write(videos / "cut")
    assert main(["retry-failed", "-n", str(videos)]) == 0
    assert capsys.readouterr().out.split() == [str(videos / "cut")] and (videos / "cut").exists()
    assert main(["retry-failed", str(videos)]) == 0
    assert sorted(p.name for p in videos.iterdir()) == ["gone", "ok"]
    assert main(["retry-failed", str(tmp_path / "none")]) == 2
