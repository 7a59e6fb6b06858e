# Stages 6-7: clean the keypoints of kept clips and write them to Parquet.


rule clean_video:
    input:
        clips="results/clips/{video}",
        pose="results/pose/{video}.npz",
        verdicts="results/filter/{video}.tsv",
    output:
        keypoints="results/keypoints/{video}.parquet",
        rejections="results/clean/{video}.rejections.tsv",
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
        "alignnet clean {input.clips} {input.pose} {input.verdicts}"
        " --video-id {wildcards.video} --task {params.task} {params.options}"
        " --rejections {output.rejections} -o {output.keypoints} > {log} 2>&1"


rule clean:
    input:
        per_video("results/keypoints/{video}.parquet"),
