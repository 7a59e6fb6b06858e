# Evaluation of every method on the saved test distortions, and the ablation: the paper's table 3 and the
# project's departures from the paper, each variant with every seed of config `ablation: seeds`.
from alignnet.evaluation.ablation import VARIANTS, variant_flags

# Keys of `ablation:` that say which runs there are and how they run, not `alignnet train` options.
ABLATION_LAYOUT_KEYS = ("variants", "seeds", "threads")

# Keys of `train:` that the ablation sets itself (launch, sizes, threads, the ladder's switches).
ABLATION_OWNED_TRAIN_KEYS = (
    *TRAIN_LAUNCH_KEYS,
    "epochs",
    "steps_per_epoch",
    "max_minutes",
    "threads",
    "seed",
    "no_pyramid",
    "raw_positions",
    "no_spec_augment",
    "no_temporal_attention",
    "no_keypoint_attention",
    "no_flip",
)


wildcard_constraints:
    variant="|".join(VARIANTS),
    seed=r"\d+",


rule evaluate:
    input:
        data="results/dataset/splits",
        alignnet="results/train/alignnet/best.safetensors",
        syncnet="results/train/syncnet/best.safetensors",
    output:
        results="results/evaluate/results.csv",
        table="results/evaluate/results.md",
        predictions="results/evaluate/predictions.npz",
        strength="results/evaluate/strength.csv",
        keypoints="results/evaluate/keypoint_errors.csv",
        bandwidth="results/evaluate/bandwidth.csv",
    log:
        "logs/evaluate/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate/evaluate.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 2
    params:
        options=options("evaluate"),
        alignnet=lambda wildcards, input: Path(input.alignnet).with_suffix(""),
        syncnet=lambda wildcards, input: Path(input.syncnet).with_suffix(""),
        out=lambda wildcards, output: Path(output.results).parent,
    shell:
        "alignnet evaluate --data {input.data:q} --split test --alignnet {params.alignnet:q}"
        " --syncnet {params.syncnet:q} --out {params.out:q} --threads {threads} {params.options}"
        " > {log:q} 2>&1"


rule train_variant:
    input:
        "results/dataset/splits",
    output:
        best="results/ablation/{variant}/seed{seed}/best.safetensors",
        metrics="results/ablation/{variant}/seed{seed}/metrics.csv",
    log:
        "logs/ablation/train_{variant}_seed{seed}.log",
    benchmark:
        "results/benchmarks/ablation/train_{variant}_seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: config["ablation"]["threads"]
    resources:
        gpu=1,
    params:
        train=train_options(skip=ABLATION_OWNED_TRAIN_KEYS),
        sizes=options("ablation", skip=ABLATION_LAYOUT_KEYS),
        flags=lambda wildcards: shlex.join(variant_flags(wildcards.variant)),
        out=lambda wildcards, output: Path(output.best).parent,
    shell:
        "alignnet train --data {input:q} --out {params.out:q} --threads {threads} --seed {wildcards.seed:q}"
        " {params.train} {params.sizes} {params.flags} > {log:q} 2>&1"


rule evaluate_variant:
    input:
        data="results/dataset/splits",
        model="results/ablation/{variant}/seed{seed}/best.safetensors",
    output:
        "results/ablation/{variant}/seed{seed}/evaluate/results.csv",
    log:
        "logs/ablation/evaluate_{variant}_seed{seed}.log",
    benchmark:
        "results/benchmarks/ablation/evaluate_{variant}_seed{seed}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    params:
        options=options("evaluate", skip=("onset_floor", "band")),
        model=lambda wildcards, input: Path(input.model).with_suffix(""),
        out=lambda wildcards, output: Path(output[0]).parent,
    shell:
        "alignnet evaluate --data {input.data:q} --split test --alignnet {params.model:q}"
        " --out {params.out:q} --threads {threads} {params.options} > {log:q} 2>&1"


rule ablation:
    input:
        expand(
            "results/ablation/{variant}/seed{seed}/evaluate/results.csv",
            variant=config["ablation"]["variants"],
            seed=config["ablation"]["seeds"],
        ),
    output:
        table="results/ablation/ablation.csv",
        seeds="results/ablation/ablation_seeds.csv",
        markdown="results/ablation/ablation.md",
    log:
        "logs/ablation/ablation.log",
    benchmark:
        "results/benchmarks/ablation/ablation.tsv"
    conda:
        "../../envs/torch.yaml"
    params:
        runs=expand(
            "results/ablation/{variant}/seed{seed}",
            variant=config["ablation"]["variants"],
            seed=config["ablation"]["seeds"],
        ),
        out=lambda wildcards, output: Path(output.table).parent,
    shell:
        "alignnet ablation {params.runs:q} --out {params.out:q} > {log:q} 2>&1"
