"""Sizes and counts of convolution and pooling layers: the one home of every shape formula.

Everything the app says about "how big is the output", "how much padding does SAME add",
"how many parameters", "how many multiply-accumulates" and "how far does one output cell see"
is computed here, so a notebook and the app always agree.

Conventions
-----------
* ``padding`` is either an ``int`` (the same number of cells on both sides) or a
  ``(before, after)`` pair, which is what TensorFlow's uneven SAME padding needs.
* ``dilation`` d spreads the kernel taps d cells apart; the *effective* kernel size is
  ``d * (k - 1) + 1``.
* Invalid settings raise :class:`ValueError` with a sentence a student can read.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

PaddingMode = Literal["valid", "same", "full"]
Padding = int | tuple[int, int]

__all__ = [
    "OutputSizeWorking",
    "PaddingMode",
    "conv_macs",
    "conv_params",
    "batchnorm_params",
    "dense_macs",
    "dense_params",
    "effective_kernel",
    "explain_output_size",
    "full_padding",
    "output_size",
    "pad_pair",
    "receptive_field",
    "resolve_padding",
    "same_padding",
    "transposed_output_size",
    "transposed_output_formula",
    "valid_padding",
]


def _is_whole(value: object) -> bool:
    """A finite real number with no fractional part (NaN and infinity are not)."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value == int(value)
    )


def _check_positive(value: int, what: str) -> None:
    if not _is_whole(value):
        raise ValueError(f"The {what} must be a whole number, got {value!r}.")
    if value < 1:
        hint = " A stride of 0 would never move the kernel." if what == "stride" else ""
        raise ValueError(f"The {what} must be at least 1, got {value}.{hint}")


def pad_pair(padding: Padding) -> tuple[int, int]:
    """Return ``padding`` as a ``(before, after)`` pair, refusing negative or fractional values."""
    pair = (padding, padding) if isinstance(padding, numbers.Real) else tuple(padding)
    if len(pair) != 2:
        raise ValueError(f"Padding must be one number or a (before, after) pair, got {padding!r}.")
    for p in pair:
        if not _is_whole(p):
            raise ValueError(f"Padding must be a whole number of cells, got {p!r}.")
        if p < 0:
            raise ValueError(
                f"Padding cannot be negative (got {int(p)}): it is the number of cells added "
                "around the input."
            )
    return int(pair[0]), int(pair[1])


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: ``dilation * (kernel - 1) + 1``."""
    _check_positive(kernel, "kernel size")
    _check_positive(dilation, "dilation")
    return dilation * (kernel - 1) + 1


def output_size(n: int, kernel: int, *, stride: int = 1, padding: Padding = 0, dilation: int = 1) -> int:
    """Length of a convolution or pooling output along one axis.

    ``floor((n + p_before + p_after - d * (k - 1) - 1) / s) + 1``; with symmetric padding p this
    is the textbook ``floor((n + 2p - d(k - 1) - 1) / s) + 1``.

    Parameters
    ----------
    n : int
        Input length (height or width).
    kernel : int
        Kernel (or pooling window) length.
    stride, dilation : int
        Step between windows and spacing between kernel taps, both at least 1.
    padding : int or (int, int)
        Cells added on each side, or ``(before, after)``.

    Raises
    ------
    ValueError
        If any setting is impossible, e.g. the kernel does not fit in the padded input.

    Examples
    --------
    >>> output_size(6, 3)
    4
    >>> output_size(6, 3, stride=2)
    2
    """
    return explain_output_size(n, kernel, stride=stride, padding=padding, dilation=dilation).size


@dataclass(frozen=True)
class OutputSizeWorking:
    """The output-size formula with the learner's numbers plugged in.

    ``size == numerator // stride + 1`` and ``dropped`` input cells at the end (bottom or right)
    are never covered by any window because the stride does not divide evenly.
    """

    n: int
    kernel: int
    stride: int
    pad_before: int
    pad_after: int
    dilation: int
    effective_kernel: int  # d * (k - 1) + 1
    numerator: int  # n + p_before + p_after - effective_kernel
    size: int
    dropped: int  # trailing cells of the padded input no window reaches

    @property
    def padded(self) -> int:
        return self.n + self.pad_before + self.pad_after

    @property
    def divides_evenly(self) -> bool:
        return self.dropped == 0

    def formula(self) -> str:
        """Plain-text working, e.g. ``floor((6 + 2*0 - 1*(3 - 1) - 1) / 2) + 1 = floor(3 / 2) + 1 = 2``."""
        if self.pad_before == self.pad_after:
            pad = f"2*{self.pad_before}"
        else:
            pad = f"{self.pad_before} + {self.pad_after}"
        return (
            f"floor(({self.n} + {pad} - {self.dilation}*({self.kernel} - 1) - 1) / {self.stride}) + 1"
            f" = floor({self.numerator} / {self.stride}) + 1 = {self.numerator // self.stride} + 1"
            f" = {self.size}"
        )


def explain_output_size(
    n: int, kernel: int, *, stride: int = 1, padding: Padding = 0, dilation: int = 1
) -> OutputSizeWorking:
    """Compute :func:`output_size` and return the whole working (see :class:`OutputSizeWorking`)."""
    _check_positive(n, "input size")
    _check_positive(stride, "stride")
    eff = effective_kernel(kernel, dilation)
    before, after = pad_pair(padding)
    padded = n + before + after
    if eff > padded:
        dil = f" (dilation {dilation} spreads it over {eff} cells)" if dilation > 1 else ""
        raise ValueError(
            f"The kernel is larger than the padded input: a kernel of size {kernel}{dil} does not "
            f"fit in {n} input cells plus {before + after} padding = {padded}. "
            "Use a smaller kernel, less dilation, or more padding."
        )
    numerator = padded - eff
    size = numerator // stride + 1
    dropped = numerator - (size - 1) * stride
    return OutputSizeWorking(
        n=n,
        kernel=kernel,
        stride=stride,
        pad_before=before,
        pad_after=after,
        dilation=dilation,
        effective_kernel=eff,
        numerator=numerator,
        size=size,
        dropped=dropped,
    )


def valid_padding() -> tuple[int, int]:
    """VALID padding: none at all; windows that would overhang are dropped."""
    return (0, 0)


def same_padding(n: int, kernel: int, *, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """SAME padding as TensorFlow computes it: output length ``ceil(n / stride)``.

    The total padding is split as evenly as possible, with the extra cell (if the total is odd)
    going after, on the bottom or right.

    >>> same_padding(5, 3)
    (1, 1)
    >>> same_padding(13, 6, stride=5)
    (1, 2)
    """
    _check_positive(n, "input size")
    _check_positive(stride, "stride")
    eff = effective_kernel(kernel, dilation)
    out = math.ceil(n / stride)
    total = max((out - 1) * stride + eff - n, 0)
    return (total // 2, total - total // 2)


def full_padding(kernel: int, *, dilation: int = 1) -> tuple[int, int]:
    """FULL padding: every position where the kernel overlaps the input by at least one cell."""
    eff = effective_kernel(kernel, dilation)
    return (eff - 1, eff - 1)


def resolve_padding(
    padding: PaddingMode | Padding, n: int, kernel: int, *, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """Turn ``"valid"`` / ``"same"`` / ``"full"`` or a number / pair into ``(before, after)``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return valid_padding()
        if mode == "same":
            return same_padding(n, kernel, stride=stride, dilation=dilation)
        if mode == "full":
            return full_padding(kernel, dilation=dilation)
        raise ValueError(f"Unknown padding {padding!r}: use 'valid', 'same', 'full' or a number.")
    return pad_pair(padding)


def transposed_output_size(
    n: int,
    kernel: int,
    *,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Length of a transposed-convolution output: ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``.

    ``output_padding`` must be smaller than the stride or the dilation (as in PyTorch).
    """
    _check_positive(n, "input size")
    _check_positive(stride, "stride")
    eff = effective_kernel(kernel, dilation)
    before, after = pad_pair(padding)
    if output_padding < 0 or (output_padding >= stride and output_padding >= dilation):
        raise ValueError(
            f"Output padding must be smaller than the stride or the dilation, got {output_padding}."
        )
    size = (n - 1) * stride - before - after + eff + output_padding
    if size < 1:
        raise ValueError(f"The padding {padding} crops away the whole output (size {size}).")
    return size


def conv_params(in_channels: int, kernel_h: int, kernel_w: int, out_channels: int, *, bias: bool = True) -> int:
    """Learnable parameters of a convolution: ``(C_in * kh * kw + 1) * C_out`` (no ``+1`` without bias)."""
    return (in_channels * kernel_h * kernel_w + int(bias)) * out_channels


def conv_macs(in_channels: int, kernel_h: int, kernel_w: int, out_channels: int, out_h: int, out_w: int) -> int:
    """Multiply-accumulates of a convolution: one ``C_in * kh * kw`` dot product per output value."""
    return in_channels * kernel_h * kernel_w * out_channels * out_h * out_w


def receptive_field(rf_in: int, jump_in: int, kernel: int, *, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Grow a receptive field through one layer.

    Returns ``(rf_out, jump_out)`` with ``rf_out = rf_in + (d(k - 1)) * jump_in`` and
    ``jump_out = jump_in * stride``; "jump" is the distance, in input pixels, between
    neighbouring output cells.
    """
    eff = effective_kernel(kernel, dilation)
    _check_positive(stride, "stride")
    return rf_in + (eff - 1) * jump_in, jump_in * stride


def dense_params(in_features: int, out_features: int, *, bias: bool = True) -> int:
    """Learnable parameters of a dense (fully connected) layer: ``(n_in + 1) * n_out`` (no ``+1`` without bias)."""
    return (in_features + int(bias)) * out_features


def dense_macs(in_features: int, out_features: int) -> int:
    """Multiply-accumulates of a dense layer on one vector: one ``n_in`` dot product per output unit."""
    return in_features * out_features


def batchnorm_params(channels: int) -> tuple[int, int]:
    """Numbers a batch-norm layer stores per channel: ``(learned, running)``.

    ``learned = 2 * C`` (scale gamma and shift beta, trained by gradient descent) and
    ``running = 2 * C`` (running mean and variance, updated by averaging, not by gradients).
    Keras counts the running ones as "non-trainable params"; PyTorch keeps them as buffers.
    """
    _check_positive(channels, "number of channels")
    return 2 * channels, 2 * channels


def transposed_output_formula(
    n: int, kernel: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> str:
    """:func:`transposed_output_size` with the numbers plugged in, as plain text.

    >>> transposed_output_formula(2, 3, stride=2)
    '(2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5'
    """
    size = transposed_output_size(
        n, kernel, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    return f"({n} - 1)*{stride} - 2*{padding} + {dilation}*({kernel} - 1) + {output_padding} + 1 = {size}"
