"""Loss, metrics and correspondence conversions on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alignnet.correspondence import Timebase, audio_frame_to_coord, coord_to_audio_frame
from alignnet.losses import (
    MATCH_TEMPERATURE,
    alignment_loss,
    level_target,
    matching_loss,
    monotonic_loss,
)
from alignnet.metrics import (
    afe,
    itu_accuracy,
    keypoint_errors,
    retime_to_source,
    retiming_errors,
    retiming_itu_accuracy,
)
from alignnet.models import AlignNetOutput


def test_afe_hand_case() -> None:
    assert afe(np.array([1.0, 2.0, 5.0]), np.array([1.0, 4.0, 4.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        afe(np.zeros(3), np.zeros(4))


def test_itu_accuracy_at_30_fps() -> None:
    true = np.zeros(6)
    pred = np.array([-3.0, -4.0, 1.0, 2.0, 0.0, -3.75])  # -100 ms, -133 ms, +33 ms, +67 ms, 0, -125 ms
    assert itu_accuracy(pred, true, 30.0) == pytest.approx(4 / 6)


def test_itu_accuracy_at_25_fps_by_hand() -> None:
    """25 fps, 40 ms frames: -3 (-120 ms) ... +1 (+40 ms) whole frames pass; -4 (-160) and +2 (+80) do not."""
    true = np.full(7, 50.0)
    pred = true + np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, -4.0])
    assert itu_accuracy(pred, true, 25.0) == pytest.approx(5 / 7)


def test_itu_window_edges_are_inside() -> None:
    """Each edge alone: -125 ms and +45 ms are inside, a hundredth of a ms beyond is not (1000 and 25 fps)."""
    for fps, frames_per_ms in ((1000.0, 1.0), (25.0, 1 / 40)):
        for err_ms, inside in ((-125.0, 1.0), (45.0, 1.0), (-125.01, 0.0), (45.01, 0.0), (125.0, 0.0), (-45.01, 1.0)):
            pred = np.array([10.0 + err_ms * frames_per_ms])
            assert itu_accuracy(pred, np.array([10.0]), fps) == inside, (fps, err_ms)


def test_itu_window_side_by_actually_retiming_with_a_constant_lag() -> None:
    """Re-time a sequence with a prediction that is late by a constant lag and look at what plays when.

    The source has one event (a flash and a click) at source frame 60. The video is
    shown undistorted (true(i) = i); a prediction pred = true + lag re-times it: distorted
    frame i is played at source time pred(i). The click stays at its source time, so the
    picture of the event comes `lag` frames after its sound when lag > 0: the audio leads,
    which ITU-R BT.1359 tolerates only to 45 ms. A late picture of 2 frames (67 ms) must
    fail and one of 1 frame (33 ms) pass; an early picture (audio lagging) passes to 125 ms.
    """
    fps, n, event = 30.0, 120, 60
    flash = (np.arange(n) == event).astype(np.float64)  # the picture: brightness per source frame
    true = np.arange(n, dtype=np.float64)
    for lag, inside in ((2.0, 0.0), (1.0, 1.0), (-3.0, 1.0), (-4.0, 0.0)):
        pred = true + lag
        # the re-timed picture on the output (= audio) timeline
        shown = retime_to_source(flash[:, None, None] * np.ones((1, 1, 2)), pred, true)[:, 0, 0]
        audio_leads_ms = (int(np.argmax(shown)) - event) / fps * 1000.0  # > 0: picture after the click
        assert audio_leads_ms == pytest.approx(lag / fps * 1000.0)
        # BT.1359: audio may lead by at most 45 ms and lag (negative lead) by at most 125 ms
        assert float(-125.0 <= audio_leads_ms <= 45.0) == inside, lag
        assert itu_accuracy(pred, true, fps) == inside, lag


def test_coordinate_conversions() -> None:
    assert audio_frame_to_coord(0, 11) == -1 and audio_frame_to_coord(10, 11) == 1
    assert audio_frame_to_coord(5.0, 11) == 0 and coord_to_audio_frame(0.0, 11) == 5
    tb = Timebase.from_meta(fps=30, sample_rate=44100, hop_length=512, n_audio=517)
    assert tb.audio_rate == pytest.approx(86.1328125)
    assert tb.seconds_to_coord(0.0) == -1
    assert tb.coord_to_seconds(1.0) == pytest.approx(516 * 512 / 44100)
    frames = np.array([0.0, 17.5, 179.0])
    assert np.allclose(tb.coord_to_source_frame(tb.source_frame_to_coord(frames)), frames)
    assert tb.source_frame_to_coord(90.0) == pytest.approx(3.0 * 86.1328125 / 258 - 1)
    t = torch.tensor([-1.0, 1.0])
    assert torch.allclose(tb.coord_to_source_frame(t), torch.tensor([0.0, 516 * 512 / 44100 * 30]))


def test_monotonic_loss_hand_case() -> None:
    d = torch.tensor([[-1.0, -0.5, -0.7, 0.2, 0.1]])  # decreases by 0.2 and 0.1 over 4 steps
    assert monotonic_loss(d).item() == pytest.approx(0.3 / 4)
    assert monotonic_loss(torch.tensor([[-1.0, -0.9, 1.0]])).item() == 0  # starting at -1 costs nothing
    assert monotonic_loss(torch.tensor([[0.3]])).item() == 0


def test_level_target_samples_every_stride() -> None:
    target = torch.arange(10.0)[None]
    assert level_target(target, 4, 3).tolist() == [[0.0, 3.0, 6.0, 9.0]]
    assert level_target(target, 2, 6).tolist() == [[0.0, 6.0]]
    assert level_target(target, 2, 12).tolist() == [[0.0, 9.0]]  # clamped at the last frame


def test_alignment_loss_hand_case() -> None:
    target = torch.zeros(1, 6)
    output = AlignNetOutput(
        correspondence=torch.full((1, 6), 0.5),
        levels=[torch.tensor([[0.2, 0.0]]), torch.tensor([[0.1]])],
        strides=[3, 6],
    )
    loss, parts = alignment_loss(output, target, lambdas=(1.0, 0.5, 2.0), mu=10.0)
    # final: 0.5; level0: L1 0.1, mono relu(0.2 - 0) / 1 = 0.2; level1: 0.1
    assert loss.item() == pytest.approx(0.5 + 0.5 * (0.1 + 10 * 0.2) + 2.0 * 0.1)
    assert parts["l1_level0"] == pytest.approx(0.1) and parts["mono_level0"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="weights"):
        alignment_loss(output, target, lambdas=(1.0,))


def test_matching_loss_rewards_the_true_audio_frame() -> None:
    # 2 video frames (stride 3 over 6 input frames) against 5 audio frames; truth at audio frames 1 and 2.5
    target = torch.tensor([[-0.5, -0.5, -0.5, 0.25, 0.25, 0.25]])
    flat = torch.zeros(1, 2, 5)
    assert matching_loss(flat, target, 3).item() == pytest.approx(math.log(5))
    peaked = torch.zeros(1, 2, 5)
    peaked[0, 0, 1] = peaked[0, 1, 2] = peaked[0, 1, 3] = 1.0
    wrong = torch.zeros(1, 2, 5)
    wrong[0, 0, 4] = wrong[0, 1, 0] = 1.0
    assert matching_loss(peaked, target, 3) < math.log(5) < matching_loss(wrong, target, 3)
    # frame 0: -log softmax at frame 1; frame 1: half at frame 2, half at frame 3
    logits = peaked * MATCH_TEMPERATURE
    logp = torch.log_softmax(logits, -1)
    expected = -(logp[0, 0, 1] + 0.5 * logp[0, 1, 2] + 0.5 * logp[0, 1, 3]) / 2
    assert matching_loss(peaked, target, 3).item() == pytest.approx(expected.item(), rel=1e-5)
    off = torch.tensor([[-0.5, -0.5, -0.5, 1.5, 1.5, 1.5]])  # frame 1's truth is off the audio: left out
    assert matching_loss(peaked, off, 3).item() == pytest.approx(-logp[0, 0, 1].item(), rel=1e-5)
    output = AlignNetOutput(torch.full((1, 6), -0.5), [], [3], affinity=peaked)
    with_match, parts = alignment_loss(output, target, lambdas=(1.0,), matching=0.5)
    assert parts["matching"] == pytest.approx(expected.item(), rel=1e-5)
    assert with_match.item() == pytest.approx(0.375 + 0.5 * expected.item(), rel=1e-5)  # L1 mean |-0.5 - t|
    with pytest.raises(ValueError, match="affinity"):
        alignment_loss(output._replace(affinity=None), target, lambdas=(1.0,), matching=0.5)


def test_true_correspondence_through_the_metric_path_is_exact() -> None:
    """A warp's truth -> audio coordinate (the training target) -> source frames gives AFE 0, 100 %."""
    from alignnet.distort.warps import random_warp

    tb = Timebase.from_meta(fps=30, sample_rate=44100, hop_length=512, n_audio=516)
    source = random_warp(np.random.default_rng(0), 180, 180)
    target = torch.from_numpy(tb.source_frame_to_coord(source).astype(np.float32))
    assert target.min() >= -1 and target.max() <= 1
    back = tb.coord_to_source_frame(target.numpy().astype(np.float64))
    assert afe(back, source) < 1e-3 and itu_accuracy(back, source, 30.0) == 1.0
    # source frame f is at f / fps seconds, audio frame t at t * hop / sr: frame 90 (3 s) is audio frame 258.4
    assert coord_to_audio_frame(tb.source_frame_to_coord(90.0), 516) == pytest.approx(3.0 * 44100 / 512)


def test_retiming_errors_score_a_retimed_video_on_its_own_timeline() -> None:
    """align's CSV: output frame k shows input frame shown[k]. Showing k - 2 at k puts every picture two
    frames after its sound (audio leads 67 ms: out); showing k + 3 puts it 100 ms early (audio lags: in)."""
    correct = np.arange(100.0)
    late = retiming_errors(correct - 2.0, correct)
    assert np.allclose(late[5:-5], 2.0) and retiming_itu_accuracy(late[5:-5], 30.0) == 0.0
    early = retiming_errors(correct + 3.0, correct)
    assert np.allclose(early[5:-5], -3.0) and retiming_itu_accuracy(early[5:-5], 30.0) == 1.0
    # a video at 1.25x: input frame j belongs at output 0.8 j; shown one input frame ahead is 0.8 output frames early
    fast = np.arange(120.0) * 1.25
    errors = retiming_errors(fast + 1.0, fast)
    assert np.allclose(errors[2:-2], -0.8)
    with pytest.raises(ValueError, match="shape"):
        retiming_errors(np.zeros(3), np.zeros(4))


def test_itu_window_at_30_fps_frame_by_frame() -> None:
    """-3 frames (-100 ms) and +1 frame (+33.3 ms) are inside; -4 (-133 ms) and +2 (+66.7 ms) are not."""
    true = np.arange(5.0)
    for offset, inside in ((-3.0, 1.0), (1.0, 1.0), (-4.0, 0.0), (2.0, 0.0), (0.0, 1.0)):
        assert itu_accuracy(true + offset, true, 30.0) == inside, offset
    # the window's exact edges at 30 fps: -3.75 frames = -125 ms, +1.35 frames = +45 ms
    assert itu_accuracy(np.array([-3.75, 1.35]), np.zeros(2), 30.0) == 1.0
    assert itu_accuracy(np.array([-3.76, 1.36]), np.zeros(2), 30.0) == 0.0


def test_retime_inverts_the_predicted_correspondence() -> None:
    distorted = np.arange(4.0).reshape(4, 1, 1).repeat(2, axis=2)  # frame i shows value i
    pred = np.array([0.0, 2.0, 4.0, 6.0])  # distorted frame i plays source frame 2i
    out = retime_to_source(distorted, pred, np.array([0.0, 1.0, 3.0, 6.0, 8.0]))
    assert out[:, 0, 0] == pytest.approx([0.0, 0.5, 1.5, 3.0, 3.0])  # held after the last frame
    # a non-monotonic prediction is made non-decreasing (2, 1 -> 2, 2) first; a plateau maps to its first frame
    out = retime_to_source(distorted, np.array([0.0, 2.0, 1.0, 3.0]), np.array([2.0, 2.5]))
    assert out[:, 0, 0] == pytest.approx([1.0, 2.5])


def test_keypoint_errors_hand_case() -> None:
    """x moves 1 px per frame over 5 frames, y is still; predicting one frame late."""
    source = np.zeros((5, 1, 2))
    source[:, 0, 0] = np.arange(5.0)
    true = np.arange(5.0)
    location, velocity = keypoint_errors(source, true, true)
    assert location.tolist() == [0.0] and velocity.tolist() == [0.0]
    location, velocity = keypoint_errors(source, true + 1.0, true)
    # aligned x = [0, 0, 1, 2, 3]; scaled to [-1, 1] by the source's range 0..4: errors 0, .5, .5, .5, .5
    # on x, 0 on y -> location (2.0 / 5) / 2. Velocities (scaled units) 0, .25, .5, .5, .5 against .5
    # everywhere, divided by the peak .5: errors 1, .5, 0, 0, 0 -> (1.5 / 5) / 2.
    assert location == pytest.approx([0.2]) and velocity == pytest.approx([0.15])


def test_keypoint_errors_only_on_the_covered_source_frames() -> None:
    """A warp covering source frames 2..6 of 10: frames outside it do not count, whatever the source does there."""
    rng = np.random.default_rng(0)
    source = rng.normal(size=(10, 3, 2))
    true = np.linspace(2.0, 6.0, 9)
    location, velocity = keypoint_errors(source, true, true)
    assert location.shape == velocity.shape == (3,)
    assert np.allclose(location, 0.0) and np.allclose(velocity, 0.0)
    late = keypoint_errors(source, true + 0.5, true)
    assert (late[0] > 0).all() and (late[1] > 0).all()
