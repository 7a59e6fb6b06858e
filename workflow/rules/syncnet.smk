# Train the SyncNet baseline on the same packed splits as AlignNet.


rule train_syncnet:
    input:
        "results/dataset/splits",
    output:
        best="results/train/syncnet/best.safetensors",
        last="results/train/syncnet/last.safetensors",
        metrics="results/train/syncnet/metrics.csv",
    log:
        "logs/train/syncnet.log",
    benchmark:
        "results/benchmarks/train/syncnet.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        options=options("syncnet"),
        out=lambda wildcards, output: Path(output.best).parent,
    shell:
        "alignnet train-syncnet --data {input:q} --out {params.out:q} {params.options} > {log:q} 2>&1"
