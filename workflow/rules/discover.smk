# Stage 1: resolve the sources into a manifest, once; later runs reuse it.
# With config voxceleb.txt_dir (task lips), VoxCeleb2's metadata files are the sources.


checkpoint discover:
    output:
        manifest=protected("results/manifest.tsv"),
        rejects="results/discover/rejects.tsv",
    log:
        "logs/discover/discover.log",
    benchmark:
        "results/benchmarks/discover/discover.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        command=discover_command,
    shell:
        "{params.command} > {log:q} 2>&1"
