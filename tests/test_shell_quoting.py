"""Every config path and wildcard reaching a rule's shell command arrives as one word, whatever it holds.

A dry run (`snakemake -n -p`) with spaces, both quotes, `;` and `$(...)` in every
path key of the config: each printed command must split (as the shell does)
into words of which every one holding the hostile text holds all of it.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
HOSTILE = "a b;echo PWNED 'q\" $(touch x)"
MANIFEST = "video_id\turl\ttitle\tuploader\tduration\tsource\na1\thttp://127.0.0.1:9/a1.mp4\tt\tu\t30\ttest\n"


def _dry_run(work: Path, configfiles: list[str], config: dict, *targets: str) -> list[str]:
    """The shell commands a dry run of `targets` prints."""
    overrides = work / "overrides.yaml"
    overrides.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [
            "snakemake",
            "--snakefile",
            str(REPO / "workflow/Snakefile"),
            "--directory",
            str(work),
            "-n",
            "-p",
            "--configfile",
            *configfiles,
            str(overrides),
            "--",
            *targets,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    commands = [line.removeprefix("Shell command: ") for line in result.stdout.splitlines()]
    return [c for c in commands if c != "" and c.startswith(("alignnet", "(alignnet", "torchrun"))]


def _assert_whole_words(commands: list[str], expected_in: int) -> None:
    holding = 0
    for command in commands:
        words = shlex.split(command)
        hostile = [w for w in words if "PWNED" in w]
        assert all(HOSTILE in w for w in hostile), f"a config value split into words:\n{command}\n{hostile}"
        holding += bool(hostile)
    assert holding >= expected_in, f"only {holding} commands hold the config values:\n" + "\n".join(commands)


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    folder = tmp_path / HOSTILE
    folder.mkdir()
    (folder / "m.tsv").write_text(MANIFEST, encoding="utf-8")
    (folder / "urls.txt").write_text("http://127.0.0.1:9/a1.mp4\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "pose",
    [
        {"backend": "openpose", "model_folder": "models", "python_path": "py"},
        {"backend": "openpose-json", "json_dir": "json"},
    ],
)
def test_every_path_key_reaches_the_data_stages_quoted(hostile_dir: Path, tmp_path: Path, pose: dict) -> None:
    pose = {k: str(hostile_dir / v) if k != "backend" else v for k, v in pose.items()}
    config = {"manifest": str(hostile_dir / "m.tsv"), "download": {"cookies": str(hostile_dir / "c.txt")}, "pose": pose}
    commands = _dry_run(tmp_path, [str(REPO / "config/demo.yaml")], config, "results/dataset/summary.json")
    download = [c for c in commands if c.startswith("alignnet download")]
    posing = [c for c in commands if c.startswith("alignnet pose")]
    assert download and posing
    _assert_whole_words(commands, expected_in=len(download) + len(posing) + 1)  # + the summary's --manifest


def test_discovery_paths_reach_their_commands_quoted(hostile_dir: Path, tmp_path: Path) -> None:
    commands = _dry_run(
        tmp_path, [str(REPO / "config/demo.yaml")], {"urls_file": str(hostile_dir / "urls.txt")}, "results/manifest.tsv"
    )
    _assert_whole_words(commands, expected_in=1)
    voxceleb = {"voxceleb": {"txt_dir": str(hostile_dir / "txt")}}
    commands = _dry_run(tmp_path, [str(REPO / "config/lips.yaml")], voxceleb, "results/manifest.tsv")
    _assert_whole_words(commands, expected_in=1)
