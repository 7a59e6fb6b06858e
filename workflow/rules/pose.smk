# Stage 4: 2D pose, one job per video (the backend is chosen in config; pose.face: face points, the lips task).

if config["task"] == "lips" and not config["pose"]["face"]:
    raise ValueError(
        "config: task lips needs pose.face: true (the mouth points are face keypoints)"
    )


rule pose_video:
    input:
        clips="results/clips/{video}",
    output:
        pose="results/pose/{video}.npz",
        status="results/pose/{video}.status.json",
    log:
        "logs/pose/{video}.log",
    benchmark:
        "results/benchmarks/pose/{video}.tsv"
    conda:
        "../../envs/pose.yaml"
    container:
        config["pose"]["container"]
    threads: 1
    resources:
        gpu=1 if config["pose"]["backend"] == "openpose" else 0,
    params:
        options=pose_options(),
        face="--face" if config["pose"]["face"] else "",
        json_dir=lambda wildcards: (
            shlex.join(["--json-dir", pose_json_dir(wildcards)])
            if config["pose"]["backend"] == "openpose-json"
            else ""
        ),
    shell:
        "alignnet pose {input.clips:q}/video.mp4 {params.options} {params.face} {params.json_dir}"
        " -o {output.pose:q} > {log:q} 2>&1"


rule pose:
    input:
        per_video("results/pose/{video}.npz"),
