"""AlignNet and its parts: shapes for any lengths, gradients, ablations, geometry."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from alignnet.keypoints import DANCE_MIRROR
from alignnet.losses import alignment_loss
from alignnet.models import AlignNet, AlignNetConfig, AlignNetOutput
from alignnet.models.correlation import (
    CorrelationPyramid,
    global_soft_argmax,
    local_correlation,
    pool_frames,
)
from alignnet.models.keypoint_attention import KeypointAttention
from alignnet.models.refinement import FineRefinement
from alignnet.models.temporal_attention import TemporalAttention
from alignnet.models.warp import straight_through_clamp, upsample, warp


@pytest.fixture(scope="module")
def net() -> AlignNet:
    torch.manual_seed(0)
    return AlignNet().eval()


@pytest.mark.parametrize(("n", "m", "batch"), [(97, 300, 2), (180, 516, 2), (7, 20, 3), (1, 4, 1), (3000, 8600, 1)])
def test_any_length(net: AlignNet, n: int, m: int, batch: int) -> None:
    with torch.no_grad():
        out = net(torch.randn(batch, 76, n), torch.randn(batch, 128, m))
    assert out.shape == (batch, n)
    assert torch.isfinite(out).all() and out.abs().max() <= 1.0


def test_diagonal_prior_and_model_options_any_length() -> None:
    from alignnet.models.alignnet import diagonal

    d = diagonal(4, 24, 73, torch.zeros(2, 1))
    assert d.shape == (2, 4) and torch.allclose(d[0], torch.tensor([0.0, 24.0, 48.0, 72.0]) / 36 - 1)
    for net in [AlignNet(coarse_init=init).eval() for init in ("soft_argmax", "diagonal")]:
        for n, m in [(180, 516), (7, 20), (1, 4)]:
            with torch.no_grad():
                out = net(torch.randn(2, 76, n), torch.randn(2, 128, m))
            assert out.shape == (2, n) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="coarse_init"):
        AlignNetConfig(coarse_init="nearest")


def test_training_mode_returns_levels() -> None:
    net = AlignNet().train()
    out = net(torch.randn(2, 76, 180), torch.randn(2, 128, 516))
    assert isinstance(out, AlignNetOutput)
    assert out.correspondence.shape == (2, 180)
    assert out.strides == [3, 6, 12, 24]
    assert [d.shape[-1] for d in out.levels] == [60, 30, 15, 8]


@pytest.mark.parametrize("correlation", ["local", "both"])
def test_every_parameter_gets_a_gradient(correlation: str) -> None:
    torch.manual_seed(0)
    net = AlignNet(correlation=correlation).train()
    video, audio = torch.randn(3, 76, 60), torch.randn(3, 128, 172)
    target = torch.linspace(-0.8, 0.9, 60).expand(3, 60)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):  # the temporal attention's gate starts at zero: its inputs get gradients from step 2
        optimizer.zero_grad()
        loss, _ = alignment_loss(net(video, audio), target, matching=0.1)
        loss.backward()
        optimizer.step()
    missing = [name for name, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


@pytest.mark.parametrize("detach", [False, True])
def test_detach_levels_stops_the_gradient_between_levels_only(detach: bool) -> None:
    torch.manual_seed(0)
    net = AlignNet(detach_levels=detach).train()
    out = net(torch.randn(2, 76, 60), torch.randn(2, 128, 172))
    out.correspondence.square().sum().backward()  # a loss on the final answer alone
    for head in (net.heads[len(net.heads) - 1], net.heads[0]):  # the coarsest level's, and the finest's
        reached = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in head.parameters())
        assert reached is not detach  # detached: a level learns from its own loss term only, not the refinement's
    with torch.no_grad():  # and inference is the same either way
        net.eval()
        video, audio = torch.randn(1, 76, 45), torch.randn(1, 128, 130)
        same = net(video, audio)
        net.config = dataclasses.replace(net.config, detach_levels=not detach)
        assert torch.equal(net(video, audio), same)


@pytest.mark.parametrize(
    "switch",
    [
        "pyramid",
        "motion_inputs",
        "temporal_attention",
        "keypoint_attention",
        "correlation",
        "fine_refinement",
        "coarse_context",
        "match_prior",
        "affinity",
    ],
)
def test_ablation_switches(switch: str) -> None:
    net = AlignNet(**{switch: {"correlation": "pooled", "affinity": "dot"}.get(switch, False)}).train()
    out = net(torch.randn(2, 76, 45), torch.randn(2, 128, 130))
    loss, _ = alignment_loss(out, torch.zeros(2, 45))
    loss.backward()
    assert out.correspondence.shape == (2, 45)
    assert len(out.levels) == (1 if switch == "pyramid" else 4)
    with torch.no_grad():
        assert net.eval()(torch.randn(1, 76, 33), torch.randn(1, 128, 99)).shape == (1, 33)


def test_raw_positions_reads_only_position_channels() -> None:
    net = AlignNet(motion_inputs=False).eval()
    video = torch.randn(1, 76, 30)
    changed = video.clone()
    changed[:, 38:] = 5.0
    audio = torch.randn(1, 128, 86)
    with torch.no_grad():
        assert torch.equal(net(video, audio), net(changed, audio))


def test_config_round_trip() -> None:
    config = AlignNetConfig(pyramid=False, corr_radius=3)
    assert AlignNetConfig.from_dict(config.to_dict()) == config
    assert AlignNet.from_config(config).config == config
    with pytest.raises(ValueError, match="mirror"):
        AlignNetConfig(n_keypoints=20)
    new_parts = ("fine_refinement", "coarse_context")
    saved_before = {k: v for k, v in AlignNetConfig().to_dict().items() if k not in new_parts}
    loaded = AlignNetConfig.from_dict(saved_before)
    assert loaded.fine_refinement is False and loaded.coarse_context is False


def test_keypoint_attention_ties_mirror_pairs() -> None:
    attention = KeypointAttention(DANCE_MIRROR.tolist())
    with torch.no_grad():
        attention.logits.copy_(torch.randn_like(attention.logits))
    w = attention.weights()
    assert torch.allclose(w, w[torch.as_tensor(DANCE_MIRROR)])
    assert w.sum().item() == pytest.approx(19.0, rel=1e-5)
    assert attention.logits.numel() == 19 - 8  # 8 mirror pairs among the 19
    x = torch.ones(2, 76, 5)
    assert torch.allclose(attention(x)[0, 19 + 4, 0], w[4])  # channel 23 = vel_y of keypoint 4


def test_temporal_attention_is_identity_at_init_and_data_dependent() -> None:
    attention = TemporalAttention(8, dim=4)
    x = torch.randn(2, 8, 40)
    assert torch.allclose(attention(x), x)
    torch.nn.init.normal_(attention.gate.weight)
    w = attention.weights(x)
    assert w.shape == (2, 1, 40) and w.std() > 0


def test_fine_refinement_finds_a_shift_at_full_rate() -> None:
    """The refinement correlates the video at every frame with the log-mel around the upsampled
    correspondence: with branches that pass one onset through (2 channels, so that the per-frame
    standardisation leaves a signed value) and a silent head, its soft-argmax moves a correspondence
    placed 2 frames late back onto the onset."""
    refine = FineRefinement(video_channels=1, audio_bins=1, channels=2, audio_stride=1, radius=4).eval()
    with torch.no_grad():
        for name in ("video", "audio"):
            conv = torch.nn.Conv1d(1, 2, 1)
            conv.weight.copy_(torch.tensor([[[1.0]], [[-1.0]]])), conv.bias.zero_()
            setattr(refine, name, conv)
        refine.head.out.weight.zero_(), refine.head.out.bias.zero_()
        refine.log_temperature.fill_(6.0)
        n = 60
        signal = torch.zeros(1, 1, n)
        signal[0, 0, 30] = 5.0  # one onset, at frame 30 of both
        coords = torch.linspace(-1, 1, n)[None]
        refined = refine(signal, signal, coords + 2 * 2 / (n - 1))
    assert refined[0, 30].item() == pytest.approx(coords[0, 30].item(), abs=0.2 * 2 / (n - 1))


def test_warp_identity_and_validity() -> None:
    features = torch.arange(10.0).view(1, 1, 10)
    grid = torch.linspace(-1, 1, 10)[None]
    warped, valid = warp(features, grid)
    assert torch.allclose(warped, features, atol=1e-5) and valid.all()
    warped, valid = warp(features, torch.tensor([[-1.0, 0.0, 1.5]]))
    assert warped[0, 0, 0] == pytest.approx(0.0) and warped[0, 0, 1] == pytest.approx(4.5)
    assert valid[0, 0].tolist() == [1.0, 1.0, 0.0]


def test_dot_affinity_is_the_dot_product_over_channels() -> None:
    """affinity="dot" (the paper's): video . audio / channels, no centring or normalisation (Pearson's would be
    the same for features scaled and shifted)."""
    torch.manual_seed(0)
    video, audio = torch.randn(2, 8, 5), torch.randn(2, 8, 5)
    coords = torch.linspace(-1.0, 1.0, 5).expand(2, 5)  # every video frame at its own audio frame
    dot = local_correlation(video, audio, coords, radius=0, affinity="dot")[:, 0]
    assert torch.allclose(dot, (video * audio).sum(dim=1) / 8, atol=1e-6)
    shifted = local_correlation(3 * video + 1, audio, coords, radius=0, affinity="dot")[:, 0]
    assert not torch.allclose(shifted, dot)
    pearson = local_correlation(video, audio, coords, radius=0)[:, 0]
    assert torch.allclose(local_correlation(3 * video + 1, audio, coords, radius=0)[:, 0], pearson, atol=1e-5)
    with pytest.raises(ValueError, match="affinity 'cosine'"):
        AlignNet(affinity="cosine")


def test_local_correlation_peaks_at_the_true_displacement() -> None:
    torch.manual_seed(0)
    audio = torch.randn(1, 16, 50)
    video = audio[:, :, 10:40]  # video frame i matches audio frame i + 10
    coords = (torch.arange(30.0) + 8) * 2 / 49 - 1  # a guess 2 frames early
    corr = local_correlation(video, audio, coords[None], radius=4)
    assert corr.shape == (1, 9, 30)
    assert (corr.argmax(dim=1) == 4 + 2).all()


def test_global_soft_argmax_finds_the_match() -> None:
    torch.manual_seed(0)
    audio = torch.nn.functional.normalize(torch.randn(1, 32, 21), dim=1) * 32**0.5
    video = audio[:, :, [3, 10, 17]]
    coords = global_soft_argmax(video, audio, torch.tensor(50.0))
    assert torch.allclose(coords, torch.tensor([[3, 10, 17]]) / 10 - 1, atol=0.02)


def test_upsample_and_straight_through_clamp() -> None:
    coarse = torch.tensor([[-1.0, 0.0, 1.0]])
    assert torch.allclose(upsample(coarse, 7, 3), torch.tensor([[-1, -2 / 3, -1 / 3, 0, 1 / 3, 2 / 3, 1.0]]))
    x = torch.tensor([1.5, -0.5], requires_grad=True)
    y = straight_through_clamp(x)
    y.sum().backward()
    assert y.tolist() == [1.0, -0.5] and x.grad.tolist() == [1.0, 1.0]


def test_correlation_pyramid_lookup_matches_the_affinity_it_pools() -> None:
    torch.manual_seed(0)
    video, audio = torch.randn(2, 8, 5), torch.randn(2, 8, 37)
    pyramid = CorrelationPyramid(video, audio, [2, 2])
    direct = local_correlation(video, audio, torch.zeros(2, 5), radius=0)[:, 0]  # every frame at audio frame 18
    assert torch.allclose(pyramid.affinity[:, :, 18], direct, atol=1e-5)
    coords = torch.full((2, 5), 2 * 18 / 36 - 1)
    finest = pyramid.lookup(coords, 0, radius=2)  # frames 16 .. 20
    assert torch.allclose(finest, pyramid.affinity[:, :, 16:21].permute(0, 2, 1), atol=1e-5)
    # level 2 pools 4 audio frames: cell 4 averages frames 16..19, centred on 17.5
    pooled = pyramid.lookup(torch.full((2, 5), 2 * 17.5 / 36 - 1), 2, radius=1)
    assert torch.allclose(pooled[:, 1], pyramid.affinity[:, :, 16:20].mean(-1), atol=1e-5)
    assert torch.allclose(pooled[:, 0], pyramid.affinity[:, :, 12:16].mean(-1), atol=1e-5)
    assert pyramid.step(2) == pytest.approx(4 * 2 / 36)
    off = pyramid.lookup(torch.full((2, 5), 1.0), 0, radius=2)  # past the last frame: zeros
    assert torch.all(off[:, 3:] == 0) and torch.allclose(off[:, 2], pyramid.affinity[:, :, 36], atol=1e-5)


def test_pool_frames_centres_on_every_stride() -> None:
    values = torch.arange(9.0)[None, None]
    assert pool_frames(values, 2, 5).flatten().tolist() == [0.5, 2.0, 4.0, 6.0, 7.5]  # windows j*2-1 .. j*2+1
    assert pool_frames(values, 1, 9).flatten().tolist() == values.flatten().tolist()
    assert pool_frames(values, 4, 4).shape == (1, 1, 4)  # ceil(9 / 4) = 3 windows, padded to the level's 4


@pytest.mark.parametrize("correlation", ["local", "pooled", "both"])
def test_finest_affinity_is_read_once_and_inference_matches_training_mode(correlation: str) -> None:
    """The finest level's pooled lookup is its local correlation: "both" reads it once (2r+1 channels), and a
    "local" model, which builds the all-pairs affinity only when asked for it, predicts the same either way."""
    torch.manual_seed(0)
    net = AlignNet(correlation=correlation, corr_radius=3).eval()
    width = 7 * (2 if correlation == "both" else 1)
    assert [h.body[0].in_channels for h in net.heads] == [7 + 2] + [width + 2] * 3
    video, audio = torch.randn(2, 76, 97), torch.randn(2, 128, 300)
    with torch.no_grad():
        plain = net(video, audio)
        with_levels = net(video, audio, return_levels=True)
    assert isinstance(with_levels, AlignNetOutput) and with_levels.affinity is not None
    assert torch.allclose(plain, with_levels.correspondence, atol=1e-5)
