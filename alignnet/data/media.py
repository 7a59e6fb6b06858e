"""Probe a downloaded video and normalise it to constant-fps H.264 plus mono PCM audio.

`probe_media` reads what the container says (streams, rotation, start times);
`normalise` runs one ffmpeg graph that writes

- video: H.264 yuv420p, constant `fps`, even dimensions, rotation applied to
  the pixels (no rotation metadata), no audio track;
- audio: `sample_rate` Hz mono PCM s16 WAV;

on one timeline: t = 0 is the presentation time of the first video frame, so
video frame j is at j / fps seconds and audio sample s at s / sample_rate.
Audio that starts after the video is padded with silence at the front; audio
that starts before it is trimmed.

Bad media raise `StageFailure` with a `Reason` (corrupt_file,
no_video_stream, no_audio_stream) rather than crashing the stage.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg
import soundfile

from alignnet.ffmpeg_paths import ffmpeg_path
from alignnet.stage_status import Reason, StageFailure
from alignnet.video_frames import decoded_in_full

# Leading packets decoded to find the first presentation time of a stream (covers B-frame reordering).
_FIRST_PACKETS = 8


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe says about a media file (the streams `normalise` will use).

    width, height: stored size of the video stream in pixels (before rotation).
    rotation: counter-clockwise display rotation in degrees, in {0, 90, 180, 270}.
    sar: sample (pixel) aspect ratio, 1.0 for square pixels.
    fps: the stream's average frame rate (frames per second; VFR streams give their mean).
    video_duration, audio_duration: stream durations in seconds (the container's when a
    stream has none; 0.0 when unknown).
    """

    video_index: int
    audio_index: int
    width: int
    height: int
    rotation: int
    sar: float
    fps: float
    video_duration: float
    audio_duration: float
    video_codec: str
    audio_codec: str
    audio_sample_rate: int
    audio_channels: int

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as shown to a viewer: pixel aspect and rotation applied."""
        width = max(1, round(self.width * self.sar))
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height


@dataclass(frozen=True)
class NormalisedMedia:
    """The result of `normalise`: sizes of the written files and how the source was mapped.

    audio_offset: seconds by which the source audio started after the first video frame
    (negative: before it); that much silence was added (or audio trimmed) at the front.
    """

    n_frames: int
    n_samples: int
    fps: int
    sample_rate: int
    width: int
    height: int
    audio_offset: float
    source: MediaInfo

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ffprobe(path: Path, **options: Any) -> dict[str, Any]:
    try:
        return ffmpeg.probe(ffmpeg_path(path), **options)
    except ffmpeg.Error as exc:
        message = exc.stderr.decode(errors="replace").strip().splitlines()
        raise StageFailure(Reason.CORRUPT_FILE, f"{path}: ffprobe failed: {' / '.join(message[-3:])}") from exc


def _rotation(stream: dict[str, Any]) -> int:
    """Counter-clockwise display rotation of a video stream, from its display matrix or `rotate` tag."""
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            return round(float(side_data["rotation"])) % 360
    tag = stream.get("tags", {}).get("rotate")
    return (-round(float(tag))) % 360 if tag is not None else 0


def _ratio(text: str | None, default: float) -> float:
    if not text or text in ("0/0", "0:1", "N/A"):
        return default
    value = Fraction(text.replace(":", "/"))
    return float(value) if value > 0 else default


def probe_media(path: str | os.PathLike[str]) -> MediaInfo:
    """Streams of `path`; raises StageFailure(corrupt_file / no_video_stream / no_audio_stream)."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise StageFailure(Reason.CORRUPT_FILE, f"{path}: empty file")
    info = _ffprobe(path)
    streams = info.get("streams", [])
    videos = [s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if not streams:
        raise StageFailure(Reason.CORRUPT_FILE, f"{path}: no readable stream (truncated or damaged container)")
    if not videos:
        raise StageFailure(Reason.NO_VIDEO_STREAM, f"{path}: no video stream")
    if not audios:
        raise StageFailure(Reason.NO_AUDIO_STREAM, f"{path}: no audio stream")
    video, audio = videos[0], audios[0]
    container_duration = float(info.get("format", {}).get("duration") or 0.0)
    if not video.get("width") or not video.get("height"):
        raise StageFailure(Reason.CORRUPT_FILE, f"{path}: video stream without a frame size")
    return MediaInfo(
        video_index=int(video["index"]),
        audio_index=int(audio["index"]),
        width=int(video["width"]),
        height=int(video["height"]),
        rotation=_rotation(video),
        sar=_ratio(video.get("sample_aspect_ratio"), 1.0),
        fps=_ratio(video.get("avg_frame_rate"), 0.0) or _ratio(video.get("r_frame_rate"), 0.0),
        video_duration=float(video.get("duration") or container_duration),
        audio_duration=float(audio.get("duration") or container_duration),
        video_codec=str(video.get("codec_name", "")),
        audio_codec=str(audio.get("codec_name", "")),
        audio_sample_rate=int(audio.get("sample_rate") or 0),
        audio_channels=int(audio.get("channels") or 0),
    )


def first_frame_time(path: str | os.PathLike[str], stream_index: int) -> float:
    """Presentation time (seconds, container timeline) of the first decoded frame of one stream."""
    path = Path(path)
    frames = _ffprobe(
        path,
        select_streams=str(stream_index),
        show_frames=None,
        read_intervals=f"%+#{_FIRST_PACKETS}",
        show_entries="frame=best_effort_timestamp_time,pts_time",
    ).get("frames", [])
    times = [
        float(t)
        for frame in frames
        if (t := frame.get("best_effort_timestamp_time", frame.get("pts_time"))) not in (None, "N/A")
    ]
    if not times:
        raise StageFailure(Reason.CORRUPT_FILE, f"{path}: stream {stream_index} has no decodable frame")
    return min(times)


def output_size(width: int, height: int, max_height: int) -> tuple[int, int]:
    """Even (width, height) no taller than `max_height`, keeping the aspect ratio (rounded to 2 px)."""
    scale = min(1.0, max_height / height)
    out_height = max(2, 2 * math.floor(height * scale / 2))
    out_width = max(2, 2 * round(width * out_height / height / 2))
    return out_width, out_height


def count_frames(path: str | os.PathLike[str]) -> int:
    """Frames of the first video stream that can be read (packets counted, not decoded): a cut file counts short."""
    stream = _ffprobe(Path(path), count_packets=None, select_streams="v:0")["streams"][0]
    return int(stream["nb_read_packets"])


def normalise(
    src: str | os.PathLike[str],
    video_out: str | os.PathLike[str],
    audio_out: str | os.PathLike[str],
    fps: int = 30,
    sample_rate: int = 44100,
    max_height: int = 720,
    crf: int = 20,
    preset: str = "veryfast",
) -> NormalisedMedia:
    """Write `video_out` (.mp4) and `audio_out` (.wav) from `src` on one timeline (see module doc).

    The fps filter (round to nearest) maps each source frame to the output slot nearest its
    timestamp and repeats or drops frames, so VFR sources become CFR by timestamps, not by count.
    Raises StageFailure(corrupt_file) when ffmpeg fails or decodes clearly less than the
    container announces (a truncated file), and the other probe reasons of `probe_media`.
    """
    src = Path(src)
    info = probe_media(src)
    video_start = first_frame_time(src, info.video_index)
    audio_start = first_frame_time(src, info.audio_index)
    audio_offset = audio_start - video_start
    shift = round(abs(audio_offset) * sample_rate)
    width, height = output_size(*info.display_size, max_height)

    source = ffmpeg.input(ffmpeg_path(src))
    video = (
        source[str(info.video_index)]
        .filter("setpts", "PTS-STARTPTS")
        .filter("fps", fps=fps, round="near")
        .filter("scale", width, height)
        .filter("setsar", 1)
        .filter("format", "yuv420p")
    )
    audio = (
        source[str(info.audio_index)]
        .filter("aresample", sample_rate)
        .filter("aformat", sample_fmts="s16", channel_layouts="mono")
    )
    if audio_offset > 0 and shift:
        audio = audio.filter("adelay", delays=f"{shift}S", all=1)
    elif shift:
        audio = audio.filter("atrim", start_sample=shift)
    audio = audio.filter("asetpts", "N/SR/TB")
    command = ffmpeg.merge_outputs(
        ffmpeg.output(
            video,
            ffmpeg_path(video_out),
            vcodec="libx264",
            crf=crf,
            preset=preset,
            pix_fmt="yuv420p",
            fps_mode="passthrough",
            an=None,
            map_metadata=-1,
            **{"metadata:s:v:0": "rotate=0"},
        ),
        ffmpeg.output(audio, ffmpeg_path(audio_out), acodec="pcm_s16le", vn=None, map_metadata=-1),
    ).global_args("-nostdin", "-loglevel", "error")
    try:
        command.overwrite_output().run(capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as exc:
        message = exc.stderr.decode(errors="replace").strip().splitlines()
        raise StageFailure(Reason.CORRUPT_FILE, f"{src}: ffmpeg failed: {' / '.join(message[-3:])}") from exc

    n_frames = count_frames(video_out)
    n_samples = soundfile.info(os.fspath(audio_out)).frames
    decoded = {
        "video": (n_frames / fps, info.video_duration),
        "audio": (n_samples / sample_rate - audio_offset, info.audio_duration),
    }
    for kind, (seconds, announced) in decoded.items():
        if not decoded_in_full(seconds, announced):
            raise StageFailure(
                Reason.CORRUPT_FILE,
                f"{src}: decoded {seconds:.2f} s of {kind} where the container announces {announced:.2f} s"
                " (truncated?)",
            )
    return NormalisedMedia(
        n_frames=n_frames,
        n_samples=n_samples,
        fps=fps,
        sample_rate=sample_rate,
        width=width,
        height=height,
        audio_offset=audio_offset,
        source=info,
    )
