"""The offline demo: generators of synthetic corpora and the runner of the demo workflow.

- `synth`: synthetic dance videos with music and ground truth (`alignnet synth`).
- `lips`: the talking-head corpus: espeak-ng speech, visemes, drawn faces (`alignnet lips-synth`).
- `corpus_server`: a corpus directory served as a video site on loopback (`alignnet serve-corpus`).
- `command`: `alignnet demo`, which generates, serves and runs the demo workflow.

Nothing outside `alignnet.demo` imports it: the real pipeline does not depend on the demo.
"""
