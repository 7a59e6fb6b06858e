# Stage 8: 128-bin log-mel spectrograms of every clip.


rule logmel_video:
    input:
        clips="results/clips/{video}",
    output:
        logmel="results/logmel/{video}.npz",
        status="results/logmel/{video}.status.json",
    log:
        "logs/logmel/{video}.log",
    benchmark:
        "results/benchmarks/logmel/{video}.tsv"
    conda:
        "../../envs/audio.yaml"
    params:
        options=options("logmel"),
        sample_rate=config["media"]["sample_rate"],
    shell:
        "alignnet logmel {input.clips:q} --sample-rate {params.sample_rate:q} {params.options}"
        " -o {output.logmel:q} > {log:q} 2>&1"


rule logmel:
    input:
        per_video("results/logmel/{video}.npz"),
