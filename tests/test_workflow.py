"""The workflow itself: lint, formatting, dry-runs of both configs, config schema."""

from __future__ import annotations

import argparse
import copy
import subprocess
from pathlib import Path

import pytest
import yaml
from snakemake.cli import get_argument_parser
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from alignnet.demo import report_command, snakemake_command
from alignnet.training import command as train_command

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


@pytest.mark.parametrize("configfile", ["config.yaml", "config/demo.yaml", "config/general.yaml"])
def test_dry_run_plans_discovery(configfile, tmp_path):
    result = snakemake("-n", "--configfile", str(REPO / configfile), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "discover" in result.stdout


def write_manifest(path: Path, ids: list[str]) -> None:
    rows = ["video_id\turl\ttitle\tuploader\tduration\tsource"]
    rows += [f"{i}\thttp://127.0.0.1:9/{i}.mp4\ttitle {i}\tdancer\t30\ttest" for i in ids]
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
    """config/demo-ablation.yaml on top of config/demo.yaml: a valid config whose ladder trains 30 x 100 steps."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    configs = [str(REPO / "config/demo.yaml"), str(REPO / "config/demo-ablation.yaml")]
    result = snakemake("-n", "-p", "ablation", "--configfile", *configs, "--config", f"manifest={manifest}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("--epochs 30 --steps-per-epoch 100 --max-minutes 8") == 8  # the 8 variants


def test_single_stage_target(tmp_path):
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    result = snakemake("-n", "pose", "--configfile", str(REPO / "config/demo.yaml"), "--config", f"manifest={manifest}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pose_video" in result.stdout and "train" not in result.stdout


def test_rediscovery_downloads_only_new_videos(tmp_path):
    """The manifest is ancient to download_video: adding a video plans its download alone."""
    manifest = tmp_path / "manifest.tsv"
    write_manifest(manifest, ["a1", "b2"])
    config = ["--configfile", str(REPO / "config/demo.yaml"), "--config", f"manifest={manifest}"]
    done = snakemake("download", "--cores", "1", *config, cwd=tmp_path)  # both fail fast (port 9), recorded
    assert done.returncode == 0, done.stderr
    write_manifest(manifest, ["a1", "b2", "c3"])
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


def test_train_schema_defaults_are_the_train_commands():
    """The train rule passes config `train:` as options: its defaults are `alignnet train`'s, so that a workflow run
    and a run of the command trains the same model (both are set by hand; this keeps them together)."""
    parser = argparse.ArgumentParser()
    train_command.add_arguments(parser)
    command_defaults = {action.dest: action.default for action in parser._actions}
    schema = yaml.safe_load(Path(SCHEMA).read_text())["properties"]["train"]["properties"]
    workflow_only = {"gpus"}  # the rule's resources, not an option
    differ_on_purpose = {"workers": (2, 0)}  # the workflow loads with 2 processes; a command starts with none
    for key, spec in schema.items():
        if key in workflow_only:
            continue
        pair = (spec["default"], command_defaults[key])
        assert pair == differ_on_purpose.get(key, (pair[1], pair[1])), (key, pair)


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
    else:
        assert not script.exists()
