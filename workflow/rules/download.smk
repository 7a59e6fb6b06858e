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
        "alignnet download --manifest {input.manifest} --video-id {wildcards.video}"
        " --archive {params.archive} {params.options} -o {output} > {log} 2>&1"


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
        "alignnet gather download-failures {input.videos}"
        " --manifest {input.manifest} -o {output.failures} > {log} 2>&1"
