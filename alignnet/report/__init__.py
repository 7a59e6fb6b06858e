"""The paper's figures and tables made from our runs, as PNGs for the Snakemake report.

One module per figure family (skeletons, keypoint errors, correspondence curves,
ablation, attention, tables); `inputs` reads the files they draw from, `style`
holds the shared look; `command` is `alignnet figures`.
"""
