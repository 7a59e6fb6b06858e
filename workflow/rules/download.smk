# Stage 2: one download job per video; a failure is recorded, never fatal.
# The manifest is `ancient`: a rediscovery that adds videos downloads the new ones only
# (to fetch a video again, e.g. after its URL changed: --forcerun resources/videos/<id>).


rule download_video:
    input:
        manifest=ancient(MANIFEST),
    output:
        directory("resources/videos/{video}"),
    log:
        "logs/download/{video}.log",
    benchmark:
        "results/benchmarks/download/{video}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        downloads=1,
    params:
        options=options("download"),
        archive="resources/videos/archive.txt",
    shell:
        "alignnet download --manifest {input.manifest:q} --video-id {wildcards.video:q}"
        " --archive {params.archive:q} {params.options} -o {output:q} > {log:q} 2>&1"


rule download:
    input:
        videos=per_video("resources/videos/{video}"),
        manifest=MANIFEST,
    output:
        failures="results/download/failures.tsv",
    log:
        "logs/download/failures.log",
    conda:
        "../../envs/data.yaml"
    shell:
        "alignnet gather download-failures {input.videos:q}"
        " --manifest {input.manifest:q} -o {output.failures:q} > {log:q} 2>&1"
