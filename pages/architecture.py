"""Architecture page (planned): shapes, parameters, FLOPs and receptive fields of a network."""

from app.layout import coming_soon

coming_soon("Architecture", "Stack layers and read each layer's output shape, parameters and receptive field.")
