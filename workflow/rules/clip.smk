# Stage 3: normalise to constant fps and mono audio, cut whole clips
# (inside VoxCeleb2's speaking segments when they are the sources).


rule clip_video:
    input:
        "resources/videos/{video}",
    output:
        directory("results/clips/{video}"),
    log:
        "logs/clip/{video}.log",
    benchmark:
        "results/benchmarks/clip/{video}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 2
    params:
        options=clip_options(),
    shell:
        "alignnet clip {input:q}/video.mp4 {params.options} -o {output:q} > {log:q} 2>&1"


rule clip:
    input:
        per_video("results/clips/{video}"),
