"""How training and evaluation samples are distorted (the paper's sections 3.3 and 4.1).

- `warps`: random monotonic time warps of a clip and their application to any sequence.
- `augment`: flips, SpecAugment masks, tempo, timbre and band-limit changes, windows across two clips.
- `samples`: `SampleGenerator`, which composes the two into a model sample (using `alignnet.motion_features`).
- `fixed_warps`: the saved warps of the validation and test clips (.npz files).

All randomness comes from an explicit `numpy.random.Generator`.
"""
