"""Arithmetic page (planned): convolution and pooling cell by cell."""

from app.layout import coming_soon

coming_soon("Arithmetic", "Step through convolution and pooling cell by cell, with the output-size formula.")
