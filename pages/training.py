"""Training page (planned): train a small CNN live."""

from app.layout import coming_soon

coming_soon("Training", "Train a small CNN on MNIST, Fashion-MNIST or your own images and watch it learn.")
