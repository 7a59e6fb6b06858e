# Retargeting (paper, section 4.5): the dance of one video re-timed to the music of another with
# `alignnet align`, plus a side-by-side of the dance as filmed and re-timed, both with the new music.
# Pairs come from config `retarget: pairs:` ({video: ID, audio: ID}); none by default. The checkpoint
# (config retarget.checkpoint, by default the one the workflow trains) carries the dataset's log-mel
# normalisation, so no dataset is needed.


rule align_pair:
    input:
        video="results/clips/{video}",
        audio="results/clips/{audio}",
        checkpoint=retarget_checkpoint(),
    output:
        video="results/retarget/{video}/{audio}.mp4",
        csv="results/retarget/{video}/{audio}.csv",
        comparison="results/retarget/{video}/{audio}.side_by_side.mp4",
    log:
        "logs/retarget/{video}/{audio}.log",
    benchmark:
        "results/benchmarks/retarget/{video}/{audio}.tsv"
    wildcard_constraints:
        audio=r"[A-Za-z0-9_-]+",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        options=options("retarget", skip=RETARGET_OWN_KEYS),
        pose=retarget_pose_options,
        checkpoint=lambda wildcards, input: input.checkpoint.removesuffix(
            ".safetensors"
        ),
    shell:
        "alignnet align {input.video:q}/video.mp4 {input.audio:q}/audio.wav -o {output.video:q}"
        " --checkpoint {params.checkpoint:q} --correspondence {output.csv:q}"
        " --side-by-side {output.comparison:q} --threads {threads} --pose-workers {threads}"
        " --no-progress {params.pose} {params.options} > {log:q} 2>&1"


rule retarget:
    input:
        [
            f"results/retarget/{pair['video']}/{pair['audio']}.side_by_side.mp4"
            for pair in config["retarget"]["pairs"]
        ],
