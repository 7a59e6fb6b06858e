# Stage 2b: fingerprints of every download; re-uploads (mirrored too) and song groups across all of them.
# The filter rejects a duplicate's clips (duplicates.reject); song-disjoint splits read the song groups.


rule fingerprint_video:
    input:
        "resources/videos/{video}",
    output:
        "results/duplicates/fingerprints/{video}.npz",
    log:
        "logs/duplicates/{video}.log",
    benchmark:
        "results/benchmarks/duplicates/{video}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        max_seconds=config["duplicates"]["max_seconds"],
    shell:
        "alignnet fingerprint {input:q} --max-seconds {params.max_seconds:q}"
        " -o {output:q} > {log:q} 2>&1"


rule duplicates:
    input:
        per_video("results/duplicates/fingerprints/{video}.npz"),
    output:
        videos=DUPLICATES,
        pairs="results/duplicates/pairs.tsv",
    log:
        "logs/duplicates/duplicates.log",
    benchmark:
        "results/benchmarks/duplicates/duplicates.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        options=options("duplicates", skip=("reject", "max_seconds")),
    shell:
        "alignnet duplicates {input:q} {params.options} --pairs {output.pairs:q}"
        " -o {output.videos:q} > {log:q} 2>&1"
