# Stages 6-7: clean the keypoints of kept clips and write them to Parquet.


rule clean_video:
    input:
        clips="results/clips/{video}",
        pose="results/pose/{video}.npz",
        verdicts="results/filter/{video}.tsv",
    output:
        keypoints="results/keypoints/{video}.parquet",
        rejections="results/clean/{video}.rejections.tsv",
        status="results/keypoints/{video}.status.json",
    log:
        "logs/clean/{video}.log",
    benchmark:
        "results/benchmarks/clean/{video}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        options=options("clean"),
        task=config["task"],
    shell:
        "alignnet clean {input.clips:q} {input.pose:q} {input.verdicts:q}"
        " --video-id {wildcards.video:q} --task {params.task:q} {params.options}"
        " --rejections {output.rejections:q} -o {output.keypoints:q} > {log:q} 2>&1"


rule clean:
    input:
        per_video("results/keypoints/{video}.parquet"),
