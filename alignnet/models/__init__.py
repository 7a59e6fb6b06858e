"""AlignNet and its parts (one module per component, composed in `alignnet.models.alignnet`)."""

from alignnet.models.alignnet import AlignNet, AlignNetConfig, AlignNetOutput

__all__ = ["AlignNet", "AlignNetConfig", "AlignNetOutput"]
