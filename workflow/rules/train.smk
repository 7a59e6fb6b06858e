# Train AlignNet on the packed splits; with more than one GPU (train.gpus, or the
# profile's `gpu` resource) torchrun starts one DistributedDataParallel process per GPU.


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
        gpu=config["train"]["gpus"],
    params:
        launcher=train_launcher,
        options=train_options(skip=TRAIN_LAUNCH_KEYS),
        out=lambda wildcards, output: Path(output.best).parent,
    shell:
        "{params.launcher} --data {input:q} --out {params.out:q} {params.options} > {log:q} 2>&1"
