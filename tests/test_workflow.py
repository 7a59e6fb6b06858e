"""The workflow itself: lint, formatting, dry-runs of both configs, config schema."""

from __future__ import annotations

import argparse
import copy
import os
import re
import signal
import subprocess
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from snakemake.cli import get_argument_parser
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from alignnet.config_docs import NOT_OPTIONS, OPTION_SECTIONS, command_options, option_flag
from alignnet.demo.command import DEMO_DEFAULTS, demo_settings, lock_hint, plan_text, report_command, snakemake_command
from alignnet.demo.command import add_arguments as add_demo_arguments
from alignnet.demo.command import run as run_demo
from alignnet.errors import UserInputError

REPO = Path(__file__).resolve().parent.parent
SCHEMA = str(REPO / "workflow/schemas/config.schema.yaml")
PER_VIDEO_RULES = ("download_video", "clip_video", "pose_video", "filter_video", "clean_video", "logmel_video")


def snakemake(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["snakemake", "--snakefile", str(REPO / "workflow/Snakefile"), "--directory", str(cwd), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_lint_is_clean():
    result = snakemake("--lint", "--configfile", "config/demo.yaml")
    assert result.returncode == 0, result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_is_clean():
    result = subprocess.run(["snakefmt", "--check", "workflow"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "configfile", ["config.yaml", "config/demo.yaml", "config/demo-full.yaml", "config/general.yaml"]
)
def test_dry_run_plans_discovery(configfile, tmp_path):
    result = snakemake("-n", "--configfile", str(REPO / configfile), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "discover" in result.stdout


def write_manifest(path: Path, ids: list[str], base_url: str = "http://127.0.0.1:9") -> None:
    rows = ["video_id\turl\ttitle\tuploader\tduration\tsource"]
    rows += [f"{i}\t{base_url}/{i}.mp4\ttitle {i}\tdancer\t30\ttest" for i in ids]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize("configfile", ["config.yaml", "config/demo.yaml", "config/general.yaml"])
def test_dry_run_with_manifest_plans_every_stage(configfile, tmp_path):
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2", "c3"])
    result = snakemake("-n", "--configfile", str(REPO / configfile), "--config", f"manifest={manifest}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for rule in (*PER_VIDEO_RULES, "split", "summary", "train"):
        assert rule in result.stdout, f"{rule} not planned"
    assert "discover" not in result.stdout.replace("discover.", "")


def test_demo_ablation_config_extends_the_demo(tmp_path):
    """config/demo-ablation.yaml on top of a demo config: a valid config whose ladder trains 30 x 100 steps."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    configs = [str(REPO / "config/demo.yaml"), str(REPO / "config/demo-ablation.yaml")]
    result = snakemake(
        "-n", "-p", "ablation", "--configfile", *configs, "--config", f"manifest={manifest}", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("--epochs 30 --steps-per-epoch 100 --max-minutes 8") == 8  # the 8 variants


def test_quick_demo_retargets_with_the_kept_model(tmp_path):
    """config/demo.yaml re-times with the kept checkpoint (a path in the repository, whatever the working directory)."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["demo-0000", "demo-0001"])
    configfile = str(REPO / "config/demo.yaml")
    config = ["--configfile", configfile, "--config", f"manifest={manifest}"]
    result = snakemake("-n", "-p", "retarget", *config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"--checkpoint {REPO}/tests/data/demo_alignnet/best " in result.stdout
    assert "rule train:" not in result.stdout and (REPO / "tests/data/demo_alignnet/best.safetensors").exists()


def test_single_stage_target(tmp_path):
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    result = snakemake(
        "-n", "pose", "--configfile", str(REPO / "config/demo.yaml"), "--config", f"manifest={manifest}", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "pose_video" in result.stdout and "train" not in result.stdout


def test_rediscovery_downloads_only_new_videos(tmp_path):
    """The manifest is ancient to download_video: adding a video plans its download alone."""
    manifest, empty = tmp_path / "manifest.tsv", tmp_path / "empty-site"
    empty.mkdir()
    # a real site that has none of the videos: HTTP 404, a verdict on each video, recorded as a finished output
    site = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(empty)))
    threading.Thread(target=site.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{site.server_address[1]}"
    try:
        write_manifest(manifest, ["a1", "b2"], base_url)
        config = ["--configfile", str(REPO / "config/demo.yaml"), "--config", f"manifest={manifest}"]
        done = snakemake("download", "--cores", "1", *config, cwd=tmp_path)  # both 404: recorded as verdicts
    finally:
        site.shutdown()
    assert done.returncode == 0, done.stderr
    write_manifest(manifest, ["a1", "b2", "c3"], base_url)
    planned = snakemake("-n", "download", *config, cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.count("rule download_video:") == 1 and "resources/videos/c3" in planned.stdout


def base_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda c: c["media"].update(fps=-3), "fps"),
        (lambda c: c.update(bogus_key=1), "bogus_key"),
        (lambda c: c.pop("sources"), "sources"),
        (lambda c: c["pose"].update(backend="openpifpaf"), "backend"),
        (lambda c: c["splits"].update(tain=3), "tain"),
    ],
)
def test_schema_rejects_bad_config_naming_the_key(change, named):
    config = copy.deepcopy(base_config())
    change(config)
    with pytest.raises(WorkflowError) as err:
        validate(config, SCHEMA)
    assert named in str(err.value)


def test_schema_fills_defaults():
    config = {"sources": ["ytsearch1:x"]}
    validate(config, SCHEMA)
    assert config["media"]["fps"] == 30 and config["logmel"]["n_mels"] == 128
    assert config["clean"]["max_gap"] == 15


# (schema default, command default) that differ on purpose, and why.
DIFFER_ON_PURPOSE = {
    ("train", "workers"): (2, 0),  # the workflow loads with 2 processes; a command starts with none
    ("pose", "backend"): ("openpose", "mediapipe"),  # Dance50 runs OpenPose on GPU; the command runs anywhere
    # the command keeps whatever it is given; the schema's defaults are Dance50's selection
    ("discover", "min_duration"): (30, None),
    ("discover", "max_duration"): (900, None),
    ("discover", "exclude_title"): (["(?i)tutorial", "(?i)reaction", "(?i)behind the scenes", "(?i)compilation"], []),
}
SCHEMA_TYPES = {int: {"integer"}, float: {"number", "integer"}}


def schema_options() -> list[tuple[str, str, dict]]:
    properties = yaml.safe_load(Path(SCHEMA).read_text())["properties"]
    return [
        (section, key, spec)
        for section in OPTION_SECTIONS
        for key, spec in properties[section]["properties"].items()
        if (section, key) not in NOT_OPTIONS
    ]


@pytest.fixture(scope="module")
def options_by_command() -> dict[str, dict[str, argparse.Action]]:
    """Every command's options by their flag (--max-gap)."""
    return {name: command_options(name) for name in set(OPTION_SECTIONS.values())}


@pytest.mark.parametrize(("section", "key", "spec"), schema_options(), ids=lambda v: v if isinstance(v, str) else "")
def test_schema_keys_are_their_commands_options(section, key, spec, options_by_command):
    """A key of a section the rules pass as options is that command's option, with the same default, type and
    choices: the workflow and the command a user runs do the same thing (each default is written in both places;
    this keeps them together)."""
    command = OPTION_SECTIONS[section]
    flag = option_flag(key)
    action = options_by_command[command].get(flag)
    assert action is not None, f"config {section}.{key}: `alignnet {command}` has no {flag}"
    if "default" in spec:  # keys without one leave the command's default (filter:)
        pair = (spec["default"], action.default)
        assert pair == DIFFER_ON_PURPOSE.get((section, key), (pair[1], pair[1])), f"{section}.{key} defaults: {pair}"
    typed = spec["items"] if spec["type"] == "array" else spec  # a list: the option repeats or takes several
    types = set(typed["type"]) if isinstance(typed["type"], list) else {typed["type"]}
    if "boolean" in types:
        assert action.nargs == 0 and action.default is False, f"{section}.{key}: {flag} is not an off-by-default flag"
    elif action.type in SCHEMA_TYPES:
        assert types - {"null"} <= SCHEMA_TYPES[action.type], f"{section}.{key}: {types} against {action.type}"
    if "enum" in spec:
        choices = set(spec["enum"]) - {None}  # null: the option left out
        assert choices <= set(action.choices), f"{section}.{key}: {spec['enum']} against {action.choices}"


def test_every_section_passed_as_options_is_checked():
    """A rule that turns a new section into options (options("x")) must add it to OPTION_SECTIONS."""
    rules = "\n".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    passed = set(re.findall(r'options\("(\w+)"', rules))
    assert passed <= set(OPTION_SECTIONS), passed - set(OPTION_SECTIONS)


def test_demo_settings_default_as_the_schema():
    """`alignnet demo` fills the `demo:` keys a config leaves out with the schema's defaults."""
    schema = yaml.safe_load(Path(SCHEMA).read_text())["properties"]["demo"]["properties"]
    for key, value in DEMO_DEFAULTS.items():
        assert schema[key]["default"] == value, key


def test_schema_rejection_reaches_the_user(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [x]\nmedia: {fps: -3}\n")
    result = snakemake("-n", "--configfile", str(bad), cwd=tmp_path)
    assert result.returncode != 0
    assert "fps" in result.stderr + result.stdout


@pytest.mark.parametrize(
    "extra, targets, forcerun",
    [(["--", "split"], {"split"}, set()), (["--", "evaluate", "--forcerun", "split"], {"evaluate"}, {"split"})],
)
def test_demo_passes_target_rules_to_snakemake(extra, targets, forcerun):
    """`alignnet demo -- split`: snakemake's own parser sees split as a target, not as a second config file."""
    command = snakemake_command(Path("config/demo.yaml"), 2, extra)
    assert command[0] == "snakemake"
    parsed = get_argument_parser().parse_args(command[1:])
    assert parsed.configfile == [Path("config/demo.yaml")] and parsed.cores == 2 and parsed.rerun_incomplete
    assert set(parsed.targets) == targets and set(parsed.forcerun or ()) == forcerun


@pytest.mark.parametrize("configfile", ["config/demo.yaml", "config/demo-full.yaml"])
def test_demo_says_what_it_will_run_and_how_long(configfile):
    config = yaml.safe_load((REPO / configfile).read_text())
    settings = demo_settings(REPO / configfile)
    text = plan_text(config, settings, Path(configfile), 2)
    assert f"generate {config['demo']['videos']} dance videos" in text
    assert f"{config['train']['max_minutes']:g} min" in text and f"about {config['demo']['minutes']:g} minutes" in text


def test_demo_full_runs_its_own_config_in_its_own_directory():
    """--full: config/demo-full.yaml, whose results (80 videos) do not meet the quick demo's (12)."""
    quick, full = demo_settings(REPO / "config/demo.yaml"), demo_settings(REPO / "config/demo-full.yaml")
    assert (quick["workdir"], full["workdir"]) == (".", "demo-full") and quick["corpus_dir"] != full["corpus_dir"]
    parser = argparse.ArgumentParser()
    add_demo_arguments(parser)
    assert parser.parse_args(["--full", "--", "-n"]).full
    with pytest.raises(UserInputError, match="not both"):
        run_demo(parser.parse_args(["--full", "--configfile", "config/demo.yaml"]))


def test_demo_writes_the_report_of_what_ran():
    """After a run, `snakemake --report` with the run's own targets and options; none after a dry run or unlock."""
    command = report_command(Path("config/demo.yaml"), ["--", "evaluate", "--directory", "w"], "results/report.html")
    assert command is not None and command[0] == "snakemake"
    parsed = get_argument_parser().parse_args(command[1:])
    assert parsed.report == Path("results/report.html") and parsed.targets == ["evaluate"]
    assert parsed.directory == Path("w") and parsed.configfile == [Path("config/demo.yaml")]
    for flags in (["-n"], ["--unlock"], ["split", "--dry-run"]):
        assert report_command(Path("config/demo.yaml"), flags, "results/report.html") is None
    assert report_command(Path("config/demo.yaml"), [], "") is None


@pytest.mark.parametrize("env", sorted(p.stem for p in (REPO / "envs").glob("*.yaml")))
def test_conda_envs_with_librosa_compile_its_gufuncs_once(env):
    """Parallel jobs compiling librosa's numba gufuncs at once break its cache: a post-deploy script compiles them."""
    pins = yaml.safe_load((REPO / "envs" / f"{env}.yaml").read_text())["dependencies"]
    pip = next((d["pip"] for d in pins if isinstance(d, dict)), [])
    script = REPO / "envs" / f"{env}.post-deploy.sh"
    if any(str(p).startswith("librosa") for p in pip):
        assert "python -m alignnet.numba_cache" in script.read_text()
    else:  # a post-deploy script may have another job (pose: PySceneDetect without its opencv-python)
        assert not script.exists() or "numba_cache" not in script.read_text()


def test_no_deps_requirements_are_installed_without_their_dependencies():
    """scenedetect pulls opencv-python, whose cv2 would overwrite mediapipe's opencv-contrib-python."""
    pins = [line for line in (REPO / "requirements-no-deps.txt").read_text().splitlines() if line and line[0] != "#"]
    assert pins == ["scenedetect==0.7.2"]
    assert "--no-deps -r requirements-no-deps.txt" in (REPO / "scripts/setup.sh").read_text()
    assert "install --no-deps scenedetect==0.7.2" in (REPO / "envs/pose.post-deploy.sh").read_text()


def test_a_second_run_in_a_locked_directory_is_refused_and_the_demo_says_what_to_do(tmp_path):
    """Two real snakemake runs in one directory: the second refuses with snakemake's lock message and writes
    nothing; `alignnet demo` then says to wait, or to --unlock when no run is left."""
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        'rule slow:\n    output:\n        "slow.txt",\n    shell:\n        "sleep 30; touch {output}"\n'
    )
    run = ["snakemake", "--snakefile", str(snakefile), "--directory", str(tmp_path), "--cores", "1"]
    assert lock_hint(tmp_path) is None
    first = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        locks = tmp_path / ".snakemake" / "locks"
        for _ in range(600):
            if locks.is_dir() and any(locks.iterdir()):
                break
            time.sleep(0.1)
        second = subprocess.run(run, capture_output=True, text=True, check=False)
        assert second.returncode != 0 and "LockException" in second.stdout + second.stderr
        hint = lock_hint(tmp_path)
        assert hint is not None and "--unlock" in hint and "wait for it" in hint
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert not (tmp_path / "slow.txt").exists()
