# Stage 1: resolve the sources into a manifest, once; later runs reuse it.


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
        sources=shlex.join(
            [arg for source in config["sources"] for arg in ("--source", source)]
        ),
        urls_file=(
            shlex.join(["--urls-file", config["urls_file"]])
            if config["urls_file"]
            else ""
        ),
        bounds=options("discover"),
    shell:
        "alignnet discover {params.sources} {params.urls_file} {params.bounds}"
        " -o {output.manifest} --rejects {output.rejects} > {log} 2>&1"
