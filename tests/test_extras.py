"""Every third-party module a workflow environment's commands import is installed there.

Each conda environment (envs/*.yaml) pins its pip packages and installs alignnet with one extra
(`-e ..[extra]`, pyproject.toml); the rules run a fixed set of `alignnet` commands in it. This
follows each command's module through every `alignnet` module it imports (any import statement,
also inside functions) and holds the third-party modules reached to the distributions the
environment gets: its pins, the package's dependencies and its extra's, and its conda packages.
Reads files only (no imports), in well under a second.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from alignnet.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
# The commands each environment's rules run (workflow/rules/*.smk, `conda:` and `shell:`).
ENV_COMMANDS: dict[str, tuple[str, ...]] = {
    "data": ("discover", "download", "gather", "clip", "fingerprint", "duplicates", "clean", "summary"),
    "audio": ("logmel", "split"),
    "pose": ("pose", "filter"),
    "torch": ("train", "train-syncnet", "evaluate", "ablation", "figures", "align"),
}
# Import names that are not their distribution's name.
DISTRIBUTION = {
    "cv2": "opencv-contrib-python",
    "yaml": "pyyaml",
    "acoustid": "pyacoustid",
    "chromaprint": "pyacoustid",
    "ffmpeg": "ffmpeg-python",
    "yt_dlp": "yt-dlp",
}
# Installed outside pip's resolution: by a post-deploy script, or built from source (optional backends).
OUTSIDE = {"pose": {"scenedetect", "openpose"}, "torch": {"openpose"}}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _extra_distributions(extra: str, extras: dict[str, list[str]]) -> set[str]:
    out = set()
    for requirement in extras[extra]:
        if _name(requirement) == "alignnet":
            for inner in re.search(r"\[(.*)\]", requirement).group(1).split(","):
                out |= _extra_distributions(inner.strip(), extras)
        else:
            out.add(_name(requirement))
    return out


def _environment(env: str) -> tuple[set[str], str]:
    """The distributions envs/ENV.yaml gives (pins, conda packages, alignnet's dependencies and extra) and the
    extra it installs alignnet with."""
    spec = yaml.safe_load((ROOT / "envs" / f"{env}.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    editable = [p for p in pip if p.startswith("-e ")]
    assert len(editable) == 1, f"envs/{env}.yaml: one `-e ..[extra]` entry, got {editable}"
    match = re.fullmatch(r"-e \.\./?\[(\w+)\]", editable[0].split("#")[0].strip())
    assert match, f"envs/{env}.yaml: {editable[0]!r} is not `-e ..[extra]`"
    have = {_name(p) for p in pip if not p.startswith("-")}
    have |= {re.split(r"[=<> ]", d, maxsplit=1)[0] for d in spec["dependencies"] if isinstance(d, str)}
    have |= {_name(r) for r in project["dependencies"]}
    return have | _extra_distributions(match.group(1), project["optional-dependencies"]), match.group(1)


def _module_file(module: str) -> Path | None:
    base = ROOT / Path(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _third_party_imports(modules: list[str]) -> dict[str, str]:
    """Top-level third-party module -> the alignnet module that imports it, over the import closure."""
    seen, found, todo = set(), {}, list(modules)
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                top = name.split(".")[0]
                if top == "alignnet":
                    parts = name.split(".")
                    todo += [".".join(parts[:i]) for i in range(2, len(parts) + 1)]
                elif top not in sys.stdlib_module_names and top != "__future__":
                    found.setdefault(top, module)
    return found


@pytest.mark.parametrize("env", sorted(ENV_COMMANDS))
def test_every_import_of_an_environments_commands_is_installed_there(env) -> None:
    have, extra = _environment(env)
    imports = _third_party_imports([COMMANDS[c][0] for c in ENV_COMMANDS[env]])
    missing = {
        top: module
        for top, module in imports.items()
        if DISTRIBUTION.get(top, top).replace("_", "-") not in have and top not in OUTSIDE.get(env, set())
    }
    assert not missing, f"envs/{env}.yaml (alignnet[{extra}]) lacks what these modules import: {missing}"


def test_every_rule_environment_is_checked() -> None:
    used = set(re.findall(r"envs/(\w+)\.yaml", " ".join(p.read_text() for p in (ROOT / "workflow").rglob("*.smk"))))
    assert used == set(ENV_COMMANDS)
