# Stages 9-10: video- or song-disjoint splits, the packed training data, the summary.


rule split:
    input:
        keypoints=per_video("results/keypoints/{video}.parquet"),
        logmel=per_video("results/logmel/{video}.npz"),
        songs=duplicates_table(config["splits"]["disjoint"] == "song"),
    output:
        directory("results/dataset/splits"),
    log:
        "logs/dataset/split.log",
    benchmark:
        "results/benchmarks/dataset/split.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        sizes=options("splits"),
        songs=table_option("--songs", "songs"),
        fps=config["media"]["fps"],
        sample_rate=config["media"]["sample_rate"],
        hop_length=config["logmel"]["hop_length"],
    shell:
        "alignnet split --keypoints {input.keypoints:q} --logmel {input.logmel:q} {params.sizes} {params.songs}"
        " --fps {params.fps:q} --sample-rate {params.sample_rate:q} --hop-length {params.hop_length:q}"
        " -o {output:q} > {log:q} 2>&1"


rule summary:
    input:
        manifest=MANIFEST,
        failures="results/download/failures.tsv",
        clips=per_video("results/clips/{video}"),
        pose=per_video("results/pose/{video}.npz"),
        verdicts="results/filter/verdicts.tsv",
        rejections=per_video("results/clean/{video}.rejections.tsv"),
        dataset="results/dataset/splits",
    output:
        "results/dataset/summary.json",
    log:
        "logs/dataset/summary.log",
    conda:
        "../../envs/data.yaml"
    params:
        clip_seconds=config["media"]["clip_seconds"],
    shell:
        "alignnet summary --manifest {input.manifest:q} --failures {input.failures:q}"
        " --clips {input.clips:q} --pose {input.pose:q} --verdicts {input.verdicts:q}"
        " --rejections {input.rejections:q} --dataset {input.dataset:q}"
        " --clip-seconds {params.clip_seconds:q} -o {output:q} > {log:q} 2>&1"
