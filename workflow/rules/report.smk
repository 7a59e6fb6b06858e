# The paper's figures from our runs, for `snakemake --report report.html`.


rule figures:
    input:
        data="results/dataset/splits",
        predictions="results/evaluate/predictions.npz",
        results="results/evaluate/results.csv",
        strength="results/evaluate/strength.csv",
        bandwidth="results/evaluate/bandwidth.csv",
        keypoint_errors="results/evaluate/keypoint_errors.csv",
        ablation="results/ablation/ablation.csv",
        checkpoint="results/train/alignnet/best.safetensors",
        summary="results/dataset/summary.json",
    output:
        skeletons=report(
            "results/report/fig3_skeletons.png",
            caption="../report/fig3_skeletons.rst",
            category="Alignment",
        ),
        motion_error=report(
            "results/report/fig4_motion_error.png",
            caption="../report/fig4_motion_error.rst",
            category="Alignment",
        ),
        location_error=report(
            "results/report/fig4_location_error.png",
            caption="../report/fig4_location_error.rst",
            category="Alignment",
        ),
        correspondence=report(
            "results/report/fig6_correspondence.png",
            caption="../report/fig6_correspondence.rst",
            category="Alignment",
        ),
        ablation=report(
            "results/report/fig6_ablation.png",
            caption="../report/fig6_ablation.rst",
            category="Ablation",
        ),
        table3=report(
            "results/report/table3_ablation.png",
            caption="../report/table3_ablation.rst",
            category="Ablation",
        ),
        keypoint_attention=report(
            "results/report/fig7_keypoint_attention.png",
            caption="../report/fig7_keypoint_attention.rst",
            category="Attention",
        ),
        temporal_attention=report(
            "results/report/fig8_temporal_attention.png",
            caption="../report/fig8_temporal_attention.rst",
            category="Attention",
        ),
        results=report(
            "results/report/results_table.png",
            caption="../report/results_table.rst",
            category="Results",
        ),
        strength=report(
            "results/report/accuracy_vs_strength.png",
            caption="../report/accuracy_vs_strength.rst",
            category="Results",
        ),
        bandwidth=report(
            "results/report/accuracy_vs_bandwidth.png",
            caption="../report/accuracy_vs_bandwidth.rst",
            category="Results",
        ),
        summary=report(
            "results/report/dataset_summary.png",
            caption="../report/dataset_summary.rst",
            category="Dataset",
        ),
    log:
        "logs/report/figures.log",
    benchmark:
        "results/benchmarks/report/figures.tsv"
    conda:
        "../../envs/torch.yaml"
    params:
        evaluate=lambda wildcards, input: Path(input.predictions).parent,
        ablation=lambda wildcards, input: Path(input.ablation).parent,
        checkpoint=lambda wildcards, input: Path(input.checkpoint).with_suffix(""),
        out=lambda wildcards, output: Path(output.skeletons).parent,
    shell:
        "alignnet figures --data {input.data:q} --evaluate {params.evaluate:q} --ablation {params.ablation:q}"
        " --checkpoint {params.checkpoint:q} --summary {input.summary:q} --out {params.out:q} > {log:q} 2>&1"
