# Stage 5: the paper's quality rules; a verdict and a reason for every clip.


rule filter_video:
    input:
        clips="results/clips/{video}",
        pose="results/pose/{video}.npz",
        duplicates=duplicates_table(config["duplicates"]["reject"]),
    output:
        verdicts="results/filter/{video}.tsv",
        status="results/filter/{video}.status.json",
    log:
        "logs/filter/{video}.log",
    benchmark:
        "results/benchmarks/filter/{video}.tsv"
    conda:
        "../../envs/pose.yaml"
    params:
        options=options("filter"),
        duplicates=table_option("--duplicates", "duplicates"),
    shell:
        "alignnet filter {input.clips:q} {input.pose:q} {params.options} {params.duplicates}"
        " -o {output.verdicts:q} > {log:q} 2>&1"


rule filter:
    input:
        per_video("results/filter/{video}.tsv"),
    output:
        "results/filter/verdicts.tsv",
    log:
        "logs/filter/verdicts.log",
    conda:
        "../../envs/data.yaml"
    shell:
        "alignnet gather verdicts {input:q} -o {output:q} > {log:q} 2>&1"
