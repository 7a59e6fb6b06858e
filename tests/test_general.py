"""The general corpus (issue 34, part 2): recorded music, dance styles, figures, strong warps, the held-out set.

Recorded-music tests need drascula-music (training) and asc-music (held out), which scripts/setup.sh installs.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import subprocess
import sys
from hashlib import md5 as digest
from pathlib import Path

import librosa
import numpy as np
import pytest
import yaml

from alignnet.demo.command import demo_settings, generator_command
from alignnet.demo.synth import command as synth_command
from alignnet.demo.synth import figures, real_music, styles
from alignnet.demo.synth.choreography import Choreography
from alignnet.demo.synth.corpus import Options, generate_video
from alignnet.demo.synth.heldout import make_heldout_video, video_options
from alignnet.demo.synth.music import synthesize_song
from alignnet.demo.synth.timewarp import DRIFTS
from alignnet.distort.warps import STRONG_SPEEDS, WarpConfig, random_warp, strong_warp
from alignnet.errors import UserInputError
from alignnet.training.command import add_arguments, config_from_args
from alignnet.video_frames import iter_frames
from tests.corpus_fixtures import decode_audio
from tests.synthetic_split import make_synthetic_split

REPO = Path(__file__).resolve().parents[1]
SR = 44100
FPS = 30


def _installed(package: str) -> bool:
    query = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return "install ok installed" in query.stdout


def _needs(*packages: str) -> pytest.MarkDecorator:
    missing = [p for p in packages if not _installed(p)]
    return pytest.mark.skipif(bool(missing), reason=f"apt-get install {' '.join(missing)} (scripts/setup.sh)")


def _motion_by_beat_phase(
    keypoints: np.ndarray, beats: np.ndarray, rate: float = 1.0, shift: float = 0.0, origin: float = 0.0
):
    """Per frame interval: its summed joint speed and the phase in [0, 1) of the moves' beat count there
    ((beat index - origin) * rate + shift, as `Choreography.params` counts)."""
    speed = np.linalg.norm(np.diff(keypoints[:, :, :2], axis=0), axis=2).sum(axis=1)
    t = (np.arange(len(speed)) + 0.5) / FPS
    inside = (t > beats[0]) & (t < beats[-1])
    count = (np.interp(t[inside], beats, np.arange(len(beats))) - origin) * rate + shift
    return speed[inside], np.mod(count, 1.0)


def _moves_on_the_beat(speed: np.ndarray, phase: np.ndarray) -> tuple[float, float]:
    """(share of all motion in the last 30 % of each beat, mean speed while held / mean speed while moving)."""
    moving = phase >= 0.7
    held = (phase > 0.1) & (phase < 0.65)
    return float(speed[moving].sum() / speed.sum()), float(speed[held].mean() / speed[phase >= 0.75].mean())


@pytest.fixture(scope="module")
def recorded_corpus(tmp_path_factory) -> Path:
    """3 videos of 8 s through the CLI: drascula-music, the 'hits' style (key poses struck on the beat)."""
    out = tmp_path_factory.mktemp("recorded")
    cmd = [
        sys.executable,
        "-m",
        "alignnet",
        "synth",
        str(out),
        "--videos",
        "3",
        "--seconds",
        "8",
        "--seed",
        "7",
        "--negatives",
        "0",
        "--width",
        "320",
        "--height",
        "180",
        "--music",
        "recorded",
        "--music-packages",
        "drascula-music",
        "--dance-styles",
        "hits",
        "--figures",
        "studio,home",
        "--no-progress",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@_needs("drascula-music")
def test_recorded_music_items_decode_and_the_hits_land_on_the_tracks_beats(recorded_corpus: Path) -> None:
    corpus = json.loads((recorded_corpus / "corpus.json").read_text())
    assert corpus["music"] == "recorded" and corpus["music_packages"] == ["drascula-music"]
    shares, ratios = [], []
    for entry in corpus["videos"]:
        side = json.loads((recorded_corpus / entry["sidecar"]).read_text())
        assert side["music"]["package"] == "drascula-music" and side["dance_style"] == "hits"
        audio = decode_audio(recorded_corpus / entry["video"])
        assert abs(audio.size / SR - 8.0) < 0.1 and float(np.sqrt(np.mean(audio**2))) > 0.01
        assert sum(1 for _ in iter_frames(recorded_corpus / entry["video"])) == side["n_frames"] == 240
        # The sidecar's beats are librosa's beats of the very cut of the track (decoded here again)
        track = next(t for t in real_music.package_tracks("drascula-music") if t.name == side["music"]["track"])
        cut = real_music.track_cut(track, side["music"]["start"], 8.0)
        strength = librosa.onset.onset_strength(y=cut, sr=SR, hop_length=512)
        _, beats = librosa.beat.beat_track(onset_envelope=strength, sr=SR, hop_length=512, units="time")
        # (before the first and after the last, the sidecar extends them at their median period)
        recorded = np.array(side["beats"])
        between = recorded[(recorded > beats[0] - 1e-3) & (recorded < beats[-1] + 1e-3)]
        np.testing.assert_allclose(between, beats, atol=1e-3)
        share, ratio = _moves_on_the_beat(*_motion_by_beat_phase(np.array(side["keypoints"]), np.array(beats)))
        shares.append(share)
        ratios.append(ratio)
    # Motion arrives with each beat and stops there: most of it in the last 30 % of a beat, little while held.
    assert np.mean(shares) > 0.6, shares
    assert np.mean(ratios) < 0.25, ratios


@pytest.mark.parametrize(("rate", "shift"), [(1.0, 0.0), (0.5, 0.0), (1.0, 0.5)])
def test_style_beat_mappings_put_the_hits_where_they_say(rate: float, shift: float) -> None:
    """Key poses under half-time / off-beat mappings arrive on every other beat / between beats, not elsewhere."""
    song = synthesize_song(np.random.default_rng(4), 12.0)
    song = dataclasses.replace(song, loudness=np.ones_like(song.loudness))  # a steady energy: holds stand still
    dance = Choreography(song, (("key_poses", 0.3),) * len(song.sections), 1.0, (), rate, shift)
    times = np.arange(int(12.0 * FPS)) / FPS
    keypoints = np.stack([dance.params(times)[k] for k in ("r_sh", "l_sh", "r_el", "l_el", "r_knee")], axis=1)
    points = keypoints[:, :, None].repeat(2, axis=2)
    origin = dance.song_first_beat
    share, ratio = _moves_on_the_beat(*_motion_by_beat_phase(points, song.beat_grid, rate, shift, origin))
    assert share > 0.8 and ratio < 0.2, (share, ratio)
    speed, beat = _motion_by_beat_phase(points, song.beat_grid, 0.5, 0.0, origin)  # phase in pairs of beats
    second_beat = speed[beat >= 0.5].sum() / speed.sum()
    if rate == 0.5:  # all motion arrives with every other beat
        assert second_beat > 0.95, second_beat
    else:  # every beat alike
        assert 0.4 < second_beat < 0.6, second_beat
    if shift:  # against the song's own beats: the motion arrives half a beat early
        plain_share, _ = _moves_on_the_beat(*_motion_by_beat_phase(points, song.beat_grid, origin=origin))
        assert plain_share < 0.3, plain_share


def test_heldout_parts_never_appear_in_the_training_config() -> None:
    config = yaml.safe_load((REPO / "config/general.yaml").read_text())
    train, held = config["demo"], config["heldout"]
    assert held == {
        "music_packages": list(real_music.HELDOUT_PACKAGES),
        "dance_styles": list(styles.HELDOUT_STYLES),
        "figures": list(figures.HELDOUT_FIGURES),
    }
    for key in ("music_packages", "dance_styles", "figures"):
        assert train[key] and held[key] and not set(train[key]) & set(held[key]), key
    assert set(train["music_packages"]) | set(held["music_packages"]) == set(real_music.MUSIC_PACKAGES)
    assert tuple(train["music_packages"]) == real_music.TRAIN_PACKAGES
    assert tuple(train["dance_styles"]) == styles.TRAIN_STYLES and tuple(train["figures"]) == figures.TRAIN_FIGURES
    # What `alignnet demo --configfile config/general.yaml` runs draws from the training lists only.
    cmd = generator_command(Path("corpus"), demo_settings(REPO / "config/general.yaml"))
    given = {cmd[i]: cmd[i + 1].split(",") for i in range(len(cmd) - 1) if cmd[i].startswith("--")}
    assert given["--music"] == ["recorded"]
    for key in ("music_packages", "dance_styles", "figures"):
        assert given["--" + key.replace("_", "-")] == train[key]
    args = argparse.ArgumentParser()
    synth_command.add_arguments(args)
    parsed = args.parse_args(cmd[4:])
    assert set(parsed.music_packages).isdisjoint(real_music.HELDOUT_PACKAGES)
    assert set(parsed.dance_styles).isdisjoint(styles.HELDOUT_STYLES)
    assert set(parsed.figures).isdisjoint(figures.HELDOUT_FIGURES)


@pytest.mark.parametrize("drift", ["none", "mild", "strong", "extreme"])
def test_heldout_videos_draw_only_from_heldout_material(drift: str) -> None:
    """make_heldout_video's defaults, as the corpus options it renders with: no training package, style or
    figure, recorded music; the held-out packages ship no track file of a training package."""
    defaults = {k: p.default for k, p in inspect.signature(make_heldout_video).parameters.items()}
    opts = video_options(30.0, drift, 640, 360, defaults["packages"], defaults["styles"], defaults["figures"])
    assert opts.music == "recorded" and opts.drift is DRIFTS[drift] and not opts.warp and opts.negatives == 0
    pairs = (
        (opts.music_packages, real_music.HELDOUT_PACKAGES, real_music.TRAIN_PACKAGES),
        (opts.dance_styles, styles.HELDOUT_STYLES, styles.TRAIN_STYLES),
        (opts.figures, figures.HELDOUT_FIGURES, figures.TRAIN_FIGURES),
    )
    for used, held, train in pairs:
        assert used and set(used) <= set(held) and set(used).isdisjoint(train), used
    if all(_installed(p) for p in real_music.MUSIC_PACKAGES):
        held_files = {f for p in real_music.HELDOUT_PACKAGES for f in real_music.package_files(p)}
        train_files = {f for p in real_music.TRAIN_PACKAGES for f in real_music.package_files(p)}
        assert held_files and train_files and held_files.isdisjoint(train_files)
    # the demo's own material (benchmarks/align_outside.py --material demo): synthesised music
    assert video_options(30.0, drift, 640, 360, (), (), ()).music == "synth"
    with pytest.raises(UserInputError, match="sideways"):
        video_options(30.0, "sideways", 640, 360, (), (), ())


def test_the_drift_table_has_issue_34s_strengths() -> None:
    """One table (timewarp.DRIFTS) for the generators, the benchmark and the tests: none; mild 0.85-1.18x;
    strong 0.7-1.4x; extreme 0.6-1.6x with several seconds of offset; every drift leaves the video a few seconds
    shorter than the music, more so the stronger it is."""
    assert list(DRIFTS) == ["none", "mild", "strong", "extreme"]
    assert [d.speeds for d in DRIFTS.values()] == [(1.0, 1.0), (0.85, 1.18), (0.7, 1.4), (0.6, 1.6)]
    gaps = [d.max_offset_s for d in DRIFTS.values()]
    assert gaps[0] == 0 and 0 < gaps[1] < gaps[2] < gaps[3] and gaps[3] >= 3.0
    assert np.array_equal(DRIFTS["none"].warp(np.random.default_rng(0), 300, FPS), np.arange(300.0))
    shorter = [300 - len(DRIFTS["extreme"].warp(np.random.default_rng(seed), 300, FPS)) for seed in range(10)]
    assert np.median(shorter) > 2 * FPS, shorter  # 10 s of music: the extreme video seconds shorter


def test_unknown_names_are_refused_by_name(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    synth_command.add_arguments(parser)
    for extra, named in (
        (["--dance-styles", "groove,moonwalk"], "moonwalk"),
        (["--figures", "hologram"], "hologram"),
        (["--music", "recorded", "--music-packages", "not-a-soundtrack"], "not-a-soundtrack"),
        (["--music-packages", "asc-music"], "--music recorded"),
    ):
        args = parser.parse_args([str(tmp_path / "out"), "--videos", "1", "--seconds", "2", *extra])
        with pytest.raises(UserInputError, match=named):
            synth_command.run(args)


@_needs("asc-music")
def test_heldout_video_is_held_out_and_drifts(tmp_path: Path) -> None:
    held = make_heldout_video(2, 12.0, tmp_path, drift="strong", width=320, height=180, packages=("asc-music",))
    side = json.loads(held.truth.read_text())
    assert side["music"]["package"] == "asc-music" and side["dance_style"] == "hits" and side["figure"] == "stick"
    source = held.source_frame
    assert np.all(np.diff(source) > 0) and source[0] >= 0 and source[-1] <= side["audio_frames"] - 1
    assert len(source) == side["n_frames"] == sum(1 for _ in iter_frames(held.video)) < side["audio_frames"]
    lo, hi = DRIFTS["strong"].speeds
    # the wandering speed is fitted to the music's length at the end: stretched by less than a frame in all
    assert 0.99 * lo <= np.diff(source).min() and np.diff(source).max() <= 1.01 * hi
    music = decode_audio(held.music)
    assert abs(music.size / SR - 12.0) < 0.1


@pytest.mark.parametrize("seed", range(40))
def test_strong_warps_keep_monotonicity_and_stay_in_range(seed: int) -> None:
    config = WarpConfig(min_speed=STRONG_SPEEDS[0], max_speed=STRONG_SPEEDS[1], max_offset_frames=3.0 * FPS)
    n = 180  # a 6-s clip
    positions = random_warp(np.random.default_rng(seed), n, n, config)
    assert positions.shape == (n,)
    assert np.all(np.diff(positions) >= 0) and positions[0] >= 0 and positions[-1] <= n - 1


def test_strong_warps_cover_the_speeds_and_offsets_and_are_off_by_default() -> None:
    config = WarpConfig(min_speed=STRONG_SPEEDS[0], max_speed=STRONG_SPEEDS[1], max_offset_frames=3.0 * FPS)
    n = 180
    no_local = dataclasses.replace(config, local_probability=0.0)
    speeds, offsets = [], []
    for seed in range(300):
        p = strong_warp(np.random.default_rng(seed), n, n, no_local)
        free = (p > 0) & (p < n - 1)
        speeds.append(np.median(np.diff(p)[free[1:] & free[:-1]]))
        offsets.append(abs(np.interp((n - 1) / 2, np.arange(n), p) - (n - 1) / 2) / FPS)
    assert STRONG_SPEEDS[0] - 1e-6 <= min(speeds) < 0.7 and 1.45 < max(speeds) <= STRONG_SPEEDS[1] + 1e-6
    assert max(offsets) > 2.0  # seconds: more than a beat at any tempo
    assert not WarpConfig().strong
    default = random_warp(np.random.default_rng(0), n, n)
    assert np.all(np.diff(default) > 0) and default[-1] - default[0] <= n - 1


@pytest.mark.parametrize("strength", ["mild", "strong", "extreme"])
def test_drift_warps_stay_in_their_speed_range_and_drift_by_seconds(strength: str) -> None:
    speeds = DRIFTS[strength].speeds
    drifts = []
    for seed in range(10):
        source = DRIFTS[strength].warp(np.random.default_rng(seed), 60 * FPS, FPS)
        step = np.diff(source)
        assert np.all(step > 0) and source[0] >= 0 and source[-1] <= 60 * FPS - 1
        assert 0.99 * speeds[0] <= step.min() and step.max() <= 1.01 * speeds[1]  # fitted to the music: < 1 %
        prior = np.linspace(0, 60 * FPS - 1, len(source))  # "the video spans the whole audio"
        drifts.append(np.abs(source - prior).max() / FPS)
    assert np.median(drifts) > 1.0, drifts


def test_train_strong_warps_option_reaches_the_sample_generator(tmp_path: Path) -> None:
    data = make_synthetic_split(tmp_path / "data", {"train": 2, "val": 1, "test": 1}, seconds=2.0)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    plain = config_from_args(parser.parse_args(["--data", str(data), "--out", str(tmp_path / "a")]))
    assert plain.samples.warp == WarpConfig()
    args = ["--data", str(data), "--out", str(tmp_path / "b"), "--strong-warps", "--max-offset-seconds", "2"]
    warp = config_from_args(parser.parse_args(args)).samples.warp
    assert warp.strong and (warp.min_speed, warp.max_speed) == STRONG_SPEEDS and warp.max_offset_frames == 2 * FPS


def _click_track(seconds: float, bpm: float, quiet_from: float) -> tuple[np.ndarray, np.ndarray]:
    """A drum-like test signal: a thump on every beat and a soft tick between beats, 1/8 as loud from
    `quiet_from` s on; (samples at SR, beat times)."""
    n = int(seconds * SR)
    t = np.arange(int(0.08 * SR)) / SR
    noise = np.random.default_rng(0).standard_normal(t.size)
    thump = np.sin(2 * np.pi * 70 * t) * np.exp(-t / 0.03) + noise * np.exp(-t / 0.01)
    tick = noise * np.exp(-t / 0.005) * 0.25
    beats = np.arange(0.25, seconds - 0.1, 60.0 / bpm)
    y = np.zeros(n)
    for b in beats:
        i = int(b * SR)
        y[i : i + t.size] += thump[: n - i]
        j = int((b + 30.0 / bpm) * SR)
        if j < n:
            y[j : j + t.size] += tick[: n - j]
    y *= np.where(np.arange(n) / SR < quiet_from, 1.0, 0.125)
    return (0.8 * y / np.abs(y).max()).astype(np.float32), beats


def test_recorded_music_analysis_finds_beats_offbeats_loudness_and_the_dance_follows() -> None:
    samples, clicks = _click_track(20.0, 120.0, quiet_from=10.0)
    song = real_music.analyse(np.random.default_rng(0), samples, SR, "clicks")
    # beats within 2 analysis frames (23 ms) of the thumps; off-beat onsets ('snare') on the ticks
    found = song.beats[(song.beats > 1.0) & (song.beats < 19.0)]
    assert len(found) >= 30 and np.max(np.min(np.abs(found[:, None] - clicks[None]), axis=1)) < 0.025
    ticks = clicks + 0.25
    offbeat = song.hits["snare"][0]
    assert offbeat.size >= 20 and np.median(np.min(np.abs(offbeat[:, None] - ticks[None]), axis=1)) < 0.025
    level = [song.loudness_at(np.arange(a, b, 0.01)).mean() for a, b in ((1.0, 9.0), (11.0, 19.0))]
    assert level[0] > 4 * level[1], level
    # the dancer's energy follows the loudness: much less motion in the quiet half
    dance = styles.choreograph_style(np.random.default_rng(1), song, styles.DANCE_STYLES["groove"])
    times = np.arange(int(20.0 * FPS)) / FPS
    params = dance.params(times)
    motion = sum(np.abs(np.diff(params[k])) for k in ("r_sh", "l_sh", "r_el", "l_el", "r_knee", "l_knee"))
    loud, quiet = motion[(times[1:] > 2) & (times[1:] < 9)].mean(), motion[(times[1:] > 12) & (times[1:] < 19)].mean()
    assert quiet < 0.7 * loud, (loud, quiet)


@pytest.mark.parametrize(
    ("seed", "warp", "md5"),
    [(3, False, "b3e03409b32d5ffcd57a9cf867d58886"), (5, True, "93f6cc0de9b49c229187e13ce430dac2")],
)
def test_the_demo_corpus_is_unchanged_without_the_new_options(tmp_path: Path, seed: int, warp: bool, md5: str) -> None:
    """Video 0's sidecar (music, dance, figure, warp, keypoints) byte for byte as before the general options
    existed (md5s of `alignnet synth --seconds 8 --seed 3 --negatives 0.34` and `--seed 5 --warp`)."""
    generate_video(tmp_path, 0, Options(seed, 8.0, warp, 0.34 if not warp else 0.2, 640, 360))
    assert digest((tmp_path / "demo-0000.json").read_bytes()).hexdigest() == md5
