"""Evaluation: every alignment method on the same saved, seeded test distortions; the ablation ladder."""
