"""The talking-head demo corpus: espeak-ng speech, visemes, drawn faces (`alignnet lips-synth`)."""
