"""The demo corpus generator: synthetic dance videos with music and ground truth (`alignnet synth`)."""
