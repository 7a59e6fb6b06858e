# Train AlignNet on the packed splits.


rule train:
    input:
        "results/dataset/splits",
    output:
        best="results/train/alignnet/best.safetensors",
        last="results/train/alignnet/last.safetensors",
        metrics="results/train/alignnet/metrics.csv",
    log:
        "logs/train/alignnet.log",
    benchmark:
        "results/benchmarks/train/alignnet.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        options=options("train"),
        out=lambda wildcards, output: Path(output.best).parent,
    shell:
        "alignnet train --data {input} --out {params.out} {params.options} > {log} 2>&1"
