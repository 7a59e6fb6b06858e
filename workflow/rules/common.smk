# Helpers of the workflow: config validation, the video list, input functions.
# Rule files define no functions; everything they need is here.
import csv
import functools
import os
import shlex
from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

from alignnet.gpu_slots import visible_gpus

validate(config, "../schemas/config.schema.yaml")

# Downloads at once on a local run, unless --resources downloads=N says otherwise (each one also
# sleeps config download.sleep_interval before it starts).
LOCAL_DOWNLOADS = 3


def bound_local_resources():
    """A local run (not through SLURM, which allots GPUs itself) takes at most one `gpu` job per GPU
    it sees and LOCAL_DOWNLOADS downloads at once; --resources gpu=N downloads=N wins.
    """
    if not workflow.local_exec or workflow.remote_exec:
        return
    limits = {"downloads": LOCAL_DOWNLOADS}
    n_gpus = len(visible_gpus())
    if n_gpus:  # no GPU: jobs that ask for one run on the CPU, bounded by --cores alone
        limits["gpu"] = n_gpus
    for name, value in limits.items():
        if name not in workflow.global_resources:
            workflow.register_resource(name, value)
    gpu = workflow.global_resources.get("gpu").value
    downloads = workflow.global_resources.get("downloads").value
    logger.info(
        f"Local run: at most {'unbounded' if gpu is None else gpu} GPU job(s) at once "
        f"(GPUs seen: {n_gpus}, each job pinned to one), {downloads} download(s) at once"
    )


bound_local_resources()


wildcard_constraints:
    video=r"[A-Za-z0-9_.-]+",


MANIFEST = config["manifest"] or "results/manifest.tsv"
# Re-uploads and song groups of every download (rules/duplicates.smk).
DUPLICATES = "results/duplicates/videos.tsv"
# VoxCeleb2's speaking segments, written beside the manifest by the discover stage (task lips).
VOXCELEB_SEGMENTS = "results/discover/voxceleb_segments.tsv"


@functools.cache
def _read_video_ids(manifest_path, stamp):
    """A manifest's video ids, in its order; `stamp` (mtime, size) makes a rewritten manifest a new cache entry."""
    with open(manifest_path, newline="", encoding="utf-8") as fh:
        return tuple(row["video_id"] for row in csv.DictReader(fh, delimiter="\t"))


def video_ids():
    """Ids of the manifest, in its order: a given manifest directly, else after discovery."""
    path = config["manifest"] or checkpoints.discover.get().output.manifest
    stat = os.stat(path)
    return _read_video_ids(path, (stat.st_mtime_ns, stat.st_size))


def per_video(pattern):
    """An input function: `pattern` expanded over every video of the manifest."""

    def inputs(wildcards):
        return expand(pattern, video=video_ids())

    return inputs


def duplicates_table(needed):
    """DUPLICATES as an input when `needed` (a config switch), else no input."""
    return DUPLICATES if needed else []


def table_option(flag, name):
    """A params function: `flag` and the rule's input `name`, or nothing when that input is empty."""

    def option(wildcards, input):
        path = input.get(name)
        return shlex.join([flag, path]) if path else ""

    return option


def options(section, skip=()):
    """A config section as command-line options: {max_gap: 15} -> --max-gap 15."""
    parts = []
    for key, value in config[section].items():
        if key in skip or value is None or value is False:
            continue
        flag = f"--{key.replace('_', '-')}"
        if value is True:
            parts.append(flag)
        elif isinstance(value, list):
            for item in value:
                parts += [flag, str(item)]
        else:
            parts += [flag, str(value)]
    return shlex.join(parts)


def train_options(skip=()):
    """config `train:` as `alignnet train` options, led by --paper under `model: paper`."""
    paper = "--paper " if config["model"] == "paper" else ""
    return paper + options("train", skip)


def discover_command(wildcards, output):
    """`alignnet discover` of the configured sources, or `alignnet voxceleb` of VoxCeleb2's metadata."""
    voxceleb = config.get("voxceleb") or {}
    if voxceleb.get("txt_dir"):
        args = ["alignnet", "voxceleb", voxceleb["txt_dir"], "-o", output.manifest]
        args += ["--segments", VOXCELEB_SEGMENTS]
        args += ["--min-seconds", str(voxceleb["min_seconds"])]
        if voxceleb.get("max_videos"):
            args += ["--max-videos", str(voxceleb["max_videos"])]
        # the rejects output: no search results are rejected here
        header = shlex.join(["printf", r"source\turl\treason\tdetail\n"])
        return f"({shlex.join(args)} && {header} > {shlex.quote(output.rejects)})"
    args = ["alignnet", "discover"]
    for source in config["sources"]:
        args += ["--source", source]
    if config["urls_file"]:
        args += ["--urls-file", config["urls_file"]]
    # the download settings discovery shares: cookies and the pause between requests
    download = config["download"]
    if download["cookies"]:
        args += ["--cookies", download["cookies"]]
    if download["sleep_requests"]:
        args += ["--sleep-requests", str(download["sleep_requests"])]
    return " ".join(
        [
            shlex.join(args),
            options("discover"),
            shlex.join(["-o", output.manifest, "--rejects", output.rejects]),
        ]
    )


def clip_options():
    """Options of `alignnet clip`: the media settings, and VoxCeleb2's segments when they are the sources."""
    parts = [options("media")]
    if (config.get("voxceleb") or {}).get("txt_dir"):
        parts.append(shlex.join(["--segments", VOXCELEB_SEGMENTS]))
    return " ".join(parts)


def pose_options():
    """Options of `alignnet pose` for the configured backend."""
    pose = config["pose"]
    parts = ["--backend", pose["backend"]]
    if pose["backend"] == "mediapipe":
        parts += ["--max-side", str(pose["max_side"])]
    elif pose["backend"] == "openpose":
        # one token: argparse would read a separate "-1x368" as an option
        parts += [f"--net-resolution={pose['net_resolution']}"]
        # full frames: OpenPose scales them to net_resolution itself (docs/openpose.md)
        parts += ["--max-side", "0"]
        parts += ["--number-people-max", str(pose["number_people_max"])]
        for key in ("model_folder", "python_path"):
            if pose[key]:
                parts += [f"--{key.replace('_', '-')}", pose[key]]
    return shlex.join(parts)


# Keys of `retarget:` that are not `alignnet align` options as they stand: see retarget_pose_options.
RETARGET_OWN_KEYS = (
    "pairs",
    "pose_backend",
    "model_folder",
    "python_path",
    "checkpoint",
)


def retarget_pose_options(wildcards):
    """`alignnet align`'s pose options: the training data's backend and settings (config pose:), unless
    retarget: names its own backend or OpenPose folders."""
    pose, retarget = config["pose"], config["retarget"]
    backend = retarget["pose_backend"] or pose["backend"]
    parts = ["--pose-backend", backend]
    if backend == "openpose":
        parts += [f"--net-resolution={pose['net_resolution']}"]
        for key in ("model_folder", "python_path"):
            if retarget[key] or pose[key]:
                parts += [f"--{key.replace('_', '-')}", retarget[key] or pose[key]]
    elif backend == "openpose-json":
        parts += ["--pose-json", pose_json_dir(wildcards)]
    return shlex.join(parts)


# Keys of `train:` that say how the training job starts, not options of `alignnet train`.
TRAIN_LAUNCH_KEYS = ("gpus",)


def train_launcher(wildcards, resources):
    """`alignnet train`, or torchrun with one process per GPU when the job has more than one."""
    if resources.gpu > 1:
        torchrun = ["torchrun", "--standalone", "--nproc_per_node", str(resources.gpu)]
        return shlex.join([*torchrun, "-m", "alignnet", "train"])
    return "alignnet train"


def retarget_checkpoint():
    """The weights that align_pair re-times with: config retarget.checkpoint's, else the trained ones.

    A relative path is the repository's, like the quick demo's tests/data/demo_alignnet/best.
    """
    stem = config["retarget"]["checkpoint"]
    if stem is None:
        return "results/train/alignnet/best.safetensors"
    return str(Path(workflow.basedir).parent / f"{stem}.safetensors")


def pose_json_dir(wildcards):
    """openpose-json: the folder of one video's *_keypoints.json files."""
    return str(Path(config["pose"]["json_dir"]) / wildcards.video)


def all_targets():
    return [
        "results/dataset/summary.json",
        "results/train/alignnet/best.safetensors",
        "results/evaluate/results.csv",
        "results/ablation/ablation.csv",
        "results/report/fig3_skeletons.png",
        *(
            f"results/retarget/{pair['video']}/{pair['audio']}.side_by_side.mp4"
            for pair in config["retarget"]["pairs"]
        ),
    ]
