"""alignnet: rebuild Dance50 and train AlignNet for dense audio-video alignment."""

__version__ = "0.1.0"
