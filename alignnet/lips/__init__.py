"""The lips task: talking-head demo corpus (espeak-ng speech, visemes, drawn faces), mouth keypoints, VoxCeleb2 import."""
