"""`alignnet align`'s global search: the path over the whole length, its pieces, and the alignment's confidence.

The model runs are on a demo dance's true keypoints (`alignnet.demo.synth.drifted`, no rendering, no pose) and
its music, with the demo checkpoint kept in tests/data: a minute of dance that drifts up to 3.5 s from the
linear prior is followed to within a frame, and a dance against another song is reported low-confidence.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import librosa
import numpy as np
import pytest

from alignnet.align.global_path import (
    LOW_CONFIDENCE,
    FeatureTrack,
    GlobalGrid,
    chunk_spans,
    chunked_features,
)
from alignnet.align.pipeline import alignment, confidence_threshold
from alignnet.align.retime import invert
from alignnet.align.windows import WindowConfig
from alignnet.baselines.dtw import mean_column_per_row
from alignnet.checkpoint import load_model
from alignnet.data.clean import clean_clip
from alignnet.data.logmel import logmel, normalise_logmel
from alignnet.data.preprocessing import load_preprocessing
from alignnet.demo.synth.drifted import drifted_dance
from alignnet.demo.synth.music import SAMPLE_RATE
from alignnet.demo.synth.timewarp import DRIFTS, drift_warp, retimed_truth
from alignnet.metrics import afe, retiming_errors, retiming_itu_accuracy

FPS = 30.0
DEMO_CHECKPOINT = Path(__file__).parent / "data" / "demo_alignnet" / "best"


# --- pieces (no model) ---------------------------------------------------------------------------


def test_drift_warp_keeps_its_speeds_and_offsets():
    rng = np.random.default_rng(1)
    source = drift_warp(rng, 1800, FPS, (0.6, 1.6), max_offset_s=4.0)
    speeds = np.diff(source)
    assert speeds.min() >= 0.6 - 1e-3 and speeds.max() <= 1.6 + 1e-3
    assert 0 <= source[0] <= 4 * FPS and 1799 - 4 * FPS <= source[-1] <= 1799
    assert np.array_equal(drift_warp(rng, 300, FPS, (1.0, 1.0)), np.arange(300.0))
    with pytest.raises(ValueError, match="speeds"):
        drift_warp(rng, 300, FPS, (1.2, 0.8))


def test_retimed_truth_onto_a_longer_audio_holds_the_ends():
    source = np.array([3.0, 4.0, 5.0])  # the video shows audio frames 3-5 of 8
    assert retimed_truth(source, 8).tolist() == [0, 0, 0, 0, 1, 2, 2, 2]


def test_chunked_features_equal_one_pass_where_the_chunks_see_enough():
    """A 'model' that averages 3 frames at stride 3 gives in chunks exactly what it gives over the whole."""

    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for x in inputs:
            padded = np.pad(x, ((0, 0), (1, 1)), mode="edge")
            out.append(np.stack([padded[:, i : i + 3].mean(axis=1) for i in range(0, x.shape[1], 3)], axis=1))
        return out

    signal = np.random.default_rng(0).normal(size=(2, 1000))
    whole = run([signal])[0]
    chunked = chunked_features(run, 1000, 180, 3, lambda a, b: signal[:, a:b])
    assert chunked.shape == whole.shape == (2, 334)
    assert np.allclose(chunked[:, 1:-1], whole[:, 1:-1])  # the ends: edge padding within a chunk
    spans = chunk_spans(1000, 180, 3)
    assert spans[0][0] == 0 and spans[-1][1] == 1000 and all(a % 3 == 0 for a, _ in spans)


def test_dtw_rows_a_step_skips_are_interpolated():
    path = np.array([[4, 9], [2, 8], [1, 6], [0, 5], [0, 4]])  # librosa's order: end first; row 3 skipped
    assert mean_column_per_row(path, 5).tolist() == [4.5, 6.0, 8.0, 8.5, 9.0]


@pytest.mark.parametrize("n_audio", [160, 95])  # the audio longer, and shorter, than the video (100 cells)
def test_global_path_follows_a_drifting_ridge(n_audio):
    """A ridge of high affinity along a path with speeds 0.6-1.25 and an offset, in noise: the path is found
    wherever it starts in the audio, also with more video cells than audio cells (librosa flips such a path)."""
    rng = np.random.default_rng(2)
    n_video = 100
    speed = np.where(np.arange(n_video) < 50, 0.6, 1.1) if n_audio < n_video else np.full(n_video, 1.25)
    truth = np.minimum(3 + np.concatenate([[0], np.cumsum(speed[:-1])]), n_audio - 1)
    affinity = rng.uniform(-0.3, 0.3, (n_video, n_audio)).astype(np.float32)
    affinity[np.arange(n_video), np.rint(truth).astype(int)] = 1.0
    path = GlobalGrid(affinity, rate=1.0).path()
    assert path is not None and np.abs(path - truth).max() <= 1.0


@pytest.mark.parametrize(("off_prior", "stronger", "expected"), [(1.0, 0.0, "prior"), (3.0, 0.3, "ridge")])
def test_ties_go_to_the_linear_prior_and_evidence_wins_over_it(off_prior, stronger, expected):
    """Two parallel ridges (a dance that matches its song on every beat): of two equal ones the path takes the one
    on the linear prior; one that matches clearly better (+0.3) is taken seconds away from the prior."""
    rate, n_video, n_audio = 10.0, 300, 360  # 30 s of dance against 36 s of song, 10 cells a second
    affinity = np.full((n_video, n_audio), -0.2, np.float32)
    rows = np.arange(n_video)
    prior = np.rint(rows * (n_audio - 1) / (n_video - 1)).astype(int)
    shifted = prior + round(off_prior * rate)
    fits = shifted < n_audio
    affinity[rows, prior] = 0.5
    affinity[rows[fits], shifted[fits]] = 0.5 + stronger
    path = GlobalGrid(affinity, rate).path()
    on = prior if expected == "prior" else shifted
    inside = rows < rows[fits].max() - 30  # the last 3 s: the path leaves a ridge that runs out of audio
    assert path is not None and np.abs(path[inside] - on[inside]).max() <= 1.0


def test_a_checkpoint_may_record_its_own_low_confidence_threshold():
    assert confidence_threshold({"extra": {"preprocessing": {}}}) == LOW_CONFIDENCE
    assert confidence_threshold({"extra": {"align": {"low_confidence": 0.7}}}) == 0.7


def test_no_global_path_where_none_fits():
    assert GlobalGrid(np.zeros((3, 10), np.float32), 1.0).path() is None  # too few video cells
    assert GlobalGrid(np.zeros((40, 15), np.float32), 1.0).path() is None  # audio under half the video


def test_feature_track_on_a_coarser_grid_averages():
    track = FeatureTrack(np.arange(20, dtype=np.float32)[None], np.arange(20) / 10.0)  # 10 per second
    grid = track.on_grid(5.0, 4)  # 5 per second: every other frame, each averaged with its two neighbours
    assert grid.shape == (1, 4) and np.allclose(grid[0], [1 / 3, 2, 4, 6])


# --- the kept demo checkpoint on a drifting demo dance -------------------------------------------


@pytest.fixture(scope="module")
def demo_model():
    model, meta = load_model(DEMO_CHECKPOINT)
    return model, load_preprocessing(meta, f"{DEMO_CHECKPOINT}.json", None)


def _inputs(prep, dance, music: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    assert SAMPLE_RATE == prep.logmel.sample_rate
    keypoints = clean_clip(dance.keypoints, dataclasses.replace(prep.clean, max_gap=len(dance.keypoints)), "dance")
    return keypoints, normalise_logmel(logmel(music.astype(np.float32), prep.logmel), prep.stats)


@pytest.mark.slow  # about 12 CPU-seconds: a minute of song and dance made, then aligned
def test_global_search_follows_a_drift_of_three_seconds(demo_model):
    """60 s of music; the dance starts 2.4 s into it, ends before it and drifts -2.2 ... +3.5 s from the linear
    prior at local speeds of 0.6-1.6x: re-timed to within a frame (AFE < 2 frames; the linear prior's windows:
    22 frames)."""
    model, prep = demo_model
    dance = drifted_dance(0, 0, 60.0, DRIFTS["extreme"])
    off = (dance.source - np.linspace(0, 60 * FPS - 1, len(dance.source))) / FPS
    assert off.max() > 3.0 and off.min() < -2.0  # the linear prior is seconds off both ways
    keypoints, mel = _inputs(prep, dance, dance.music)
    result = alignment(model, keypoints, mel, prep, WindowConfig(prep.clip_seconds), progress=False)
    truth = retimed_truth(dance.source, round(60 * FPS))
    source = invert(result.forward, len(truth))
    assert afe(source, truth) < 2.0
    assert retiming_itu_accuracy(retiming_errors(source, truth), FPS) >= 0.9
    assert result.confidence >= LOW_CONFIDENCE


def test_a_dance_against_another_song_is_low_confidence(demo_model):
    model, prep = demo_model
    dance = drifted_dance(0, 1, 30.0, DRIFTS["mild"])
    other = drifted_dance(1, 1, 30.0, DRIFTS["none"])
    keypoints, mel = _inputs(prep, dance, other.music)
    result = alignment(model, keypoints, mel, prep, WindowConfig(prep.clip_seconds), progress=False)
    assert result.confidence < LOW_CONFIDENCE
    _, own = _inputs(prep, dance, dance.music)
    assert alignment(model, keypoints, own, prep, WindowConfig(prep.clip_seconds), progress=False).confidence > (
        LOW_CONFIDENCE
    )


@pytest.mark.parametrize("windows_ok", [True, False])
def test_windows_that_stray_from_the_global_path_give_way_to_it(demo_model, monkeypatch, windows_ok):
    """The windows refine the global path; windows whose answer stands out of the affinity far less than the
    path's (here: every window answering "the diagonal", whatever the dance) are dropped for the path."""
    model, prep = demo_model
    dance = drifted_dance(0, 2, 30.0, DRIFTS["strong"])
    keypoints, mel = _inputs(prep, dance, dance.music)
    if not windows_ok:
        monkeypatch.setattr(
            "alignnet.alignment_methods.AlignNetAligner.coords_batch",
            lambda self, videos, audios: [np.full(len(v), 0.9) for v in videos],
        )
    result = alignment(model, keypoints, mel, prep, WindowConfig(prep.clip_seconds), progress=False)
    truth = retimed_truth(dance.source, round(30 * FPS))
    error = afe(invert(result.forward, len(truth)), truth)
    assert result.answer == ("windows" if windows_ok else "global path")
    assert error < (1.5 if windows_ok else 3.0), error  # the path alone: cells of 0.1 s, within a few frames
    assert result.confidence >= LOW_CONFIDENCE


def test_librosa_still_needs_its_padding():
    """Why GlobalGrid.path pads the cost: librosa flips the path of a precomputed subsequence cost with more
    rows than columns. When this fails, librosa has fixed it and the padding can go."""
    cost = np.ones((6, 5))
    cost[np.arange(6), [0, 1, 1, 2, 3, 4]] = 0.0
    _, path = librosa.sequence.dtw(C=cost, subseq=True)
    assert path[:, 1].max() == 5  # a column that does not exist: rows and columns swapped
