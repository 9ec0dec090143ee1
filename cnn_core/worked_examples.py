"""The worked examples of the course notes, by name, with what the notes print and what is right.

Each :class:`WorkedExample` holds the *numbers* of one exercise from ``../shared/course-notes``
(the input, the kernel or pooling window, stride and padding), where it comes from, and what
the notes print as the answer. ConvLab never shows that printed answer as the result: it
computes the output with :mod:`cnn_core.ops`, and :func:`discrepancies` lists every cell where
the notes print something else, so the app can say "the notes print X here; the correct value
is Y". Examples marked ``constructed`` have no numbers in the notes (the figure is missing from
the text); their numbers are ConvLab's own, built to follow the notes' description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cnn_core import ops
from cnn_core.numbers import format_number

__all__ = ["EXAMPLES", "NOTE_TITLES", "Discrepancy", "WorkedExample", "compute", "discrepancies"]

Operation = Literal["conv2d", "conv1d", "transposed", "pool", "chain", "backward", "conv3d"]

NOTE_TITLES = {
    "000_353cae653595de18.txt": "Artificial Intelligence Fullstack, Week 11: Convolutional Neural Networks (CNN)",
    "001_82aa0efdcb64f8e9.txt": "Deep Learning (BS elective), Unit 02: CNN, Week 1",
    "002_0cf47f1e17e0e08c.txt": "Convolutional Neural Networks: Fundamental Concepts & Hands-on Examples",
    "003_a3ea8e62b8836153.txt": "Deep Learning: Lecture Notes for MSc. in Data Science (Taif University)",
    "004_cade088081ddee0f.txt": "Convolutional Neural Networks in Deep Learning (tutorial article)",
}
"""Course-notes file -> the title it opens with (what the app shows instead of the file name)."""


def _a(rows: object) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class WorkedExample:
    """One exercise: its numbers, settings, source and the answer the notes print.

    Array shapes: ``x`` is (C, H, W) for "conv2d", "chain" and "backward", (H, W) for "pool" and
    "transposed", (L,) for "conv1d"; ``kernels`` is (M, C, kh, kw) for "conv2d", "chain" and
    "backward" (M = 1), (kh, kw) for "transposed", (k,) for "conv1d" and ``None`` for pooling.
    """

    name: str
    source: str  # file in ../shared/course-notes (shown by its title, :data:`NOTE_TITLES`)
    where: str  # the slide or section it is on
    operation: Operation
    x: np.ndarray
    kernels: np.ndarray | None = None
    biases: tuple[float, ...] = (0.0,)  # one per kernel
    stride: int = 1
    padding: str | int = 0  # "valid" / "same" / "full" or cells per side
    dilation: int = 1
    pool_mode: ops.PoolMode = "max"
    pool_size: int = 2
    pool_stride: int | None = None  # "chain": the pooling's stride (None: the window size)
    grad_out: np.ndarray | None = None  # "backward": the upstream gradient dL/dy
    notes_printed: np.ndarray | None = None  # the output as printed, NaN where nothing is printed
    about: str = ""  # what the example teaches, in ConvLab's words
    constructed: bool = False  # True when the numbers are ConvLab's, not the notes'
    tags: tuple[str, ...] = field(default=())

    @property
    def source_title(self) -> str:
        """The notes this example is from, by their title."""
        return NOTE_TITLES.get(self.source, self.source)


@dataclass(frozen=True)
class Discrepancy:
    """A cell where the notes print a different value from the computed one."""

    cell: tuple[int, ...]  # index into the computed output
    printed: float
    correct: float

    def sentence(self) -> str:
        where = ", ".join(str(i) for i in self.cell[-2:])
        return (
            f"The notes print {format_number(self.printed)} at output cell (row, column) = ({where}), counting from 0; "
            f"the correct value is {format_number(self.correct)}."
        )


_EDGE_X = _a(
    [
        [1, 2, 3, 1, 3, 5],
        [2, 2, 5, 4, 2, 5],
        [0, 6, 9, 6, 2, 2],
        [2, 0, 1, 9, 4, 0],
        [5, 5, 4, 6, 7, 6],
        [6, 1, 3, 7, 1, 5],
    ]
)
_VERTICAL_EDGE = _a([[1, 0, -1]] * 3)
_CROSS = _a([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
_DIGIT = _a(
    [
        [0, 0, 0, 0, 0.2, 0],
        [0, 0, 0, 0, 0.2, 0.3],
        [0, 0, 0.1, 0, 0.5, 0.2],
        [0, 0.2, 0, 0.2, 0.2, 0.6],
        [0, 0.2, 0, 0, 0.9, 0.7],
        [0, 0, 0, 0, 0, 0],
    ]
)
_DIGIT_PRINTED = _a([[0.1, 0, 1.0, 0.4], [0, 0.5, 0.4, 1.6], [0.3, 0.2, 1.7, 1.1], [0.2, 0.4, 1.1, 1.7]])
_NAN = np.nan


def _examples() -> list[WorkedExample]:
    return [
        WorkedExample(
            name="6x6 vertical edge, stride 1",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Filters (stride, filter size and padding)', (a) Stride = 1",
            operation="conv2d",
            x=_EDGE_X[None],
            kernels=_VERTICAL_EDGE[None, None],
            stride=1,
            notes_printed=_a([[-14, -1, 10, -1], [-11, -11, 7, 12], [-7, -10, 1, 13], [5, -16, -4, 10]]),
            about="A 3x3 vertical-edge kernel slides one cell at a time over a 6x6 input: 4x4 outputs.",
        ),
        WorkedExample(
            name="6x6 vertical edge, stride 2",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Filters (stride, filter size and padding)', (b) Stride = 2",
            operation="conv2d",
            x=_EDGE_X[None],
            kernels=_VERTICAL_EDGE[None, None],
            stride=2,
            notes_printed=_a([[-14, 10], [-7, 1]]),
            about="The same input and kernel with stride 2: the kernel jumps two cells, so only 2x2 "
            "outputs, and the last row and column of the input are never reached.",
        ),
        WorkedExample(
            name="5x5 of ones, SAME padding, 3x3 kernel",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Example: SAME Padding with a 3x3 Filter', Case 1: 1x1 stride",
            operation="conv2d",
            x=np.ones((1, 5, 5)),
            kernels=np.ones((1, 1, 3, 3)),
            stride=1,
            padding="same",
            about="SAME padding adds one ring of zeros so the 5x5 input gives a 5x5 output. The notes "
            "give no kernel values; ConvLab uses a 3x3 of ones, so each output counts how many real "
            "(non-padding) cells its window covers: 4 in the corners, 6 on the edges, 9 inside. "
            "(The text copy of the notes shows this input garbled as 4 rows of 6 ones; the padded 7x7 "
            "grid next to it shows it is a 5x5.)",
        ),
        WorkedExample(
            name="4x4 max pooling 2x2, stride 2",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Pooling Layer', Max pooling example",
            operation="pool",
            x=_a([[1, 3, 2, 4], [5, 6, 8, 7], [4, 2, 1, 3], [2, 5, 7, 8]]),
            pool_mode="max",
            stride=2,
            notes_printed=_a([[6, 8], [5, 8]]),
            about="Each 2x2 block keeps only its largest value.",
        ),
        WorkedExample(
            name="4x4 average pooling 2x2, stride 2",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Max/Min Pooling', Average Pool, filter (2 x 2), stride (2, 2)",
            operation="pool",
            x=_a([[2, 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]]),
            pool_mode="avg",
            stride=2,
            notes_printed=_a([[4.25, 4.25], [4.25, 3.5]]),
            about="Each 2x2 block is replaced by the mean of its four values.",
        ),
        WorkedExample(
            name="4x4 min pooling 2x2, stride 2",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Max/Min Pooling', Min pool with 2x2 filters and stride 2",
            operation="pool",
            x=_a([[20, 8, 12, 15], [6, 12, 9, 8], [9, 12, 10, 6], [18, 10, 5, 9]]),
            pool_mode="min",
            stride=2,
            notes_printed=_a([[6, 8], [9, 5]]),
            about="Each 2x2 block keeps only its smallest value.",
        ),
        WorkedExample(
            name="6x6 digit patch, cross kernel",
            source="000_353cae653595de18.txt",
            where="'DL | Do we have to manually find these weights?', the convoluted matrix",
            operation="conv2d",
            x=_DIGIT[None],
            kernels=_CROSS[None, None],
            notes_printed=_DIGIT_PRINTED,
            about="A patch of a handwritten digit with the 3x3 'X' kernel (corners and centre are 1).",
        ),
        WorkedExample(
            name="Max pooling of the digit's convolved matrix",
            source="000_353cae653595de18.txt",
            where="'DL | Pooling layer', Max Pooling 2x2 filter, Stride = 2",
            operation="pool",
            x=_DIGIT_PRINTED,
            pool_mode="max",
            stride=2,
            notes_printed=_a([[0.5, 1.6], [0, 0.5]]),
            about="Max pooling of the convolved matrix exactly as the notes print it.",
        ),
        WorkedExample(
            name="5x5 binary image, cross kernel",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Filters', the animation frame with 1x1, 1x0, 1x1 ... (also 002, 'Convolved Feature')",
            operation="conv2d",
            x=_a([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])[None],
            kernels=_CROSS[None, None],
            about="The classic animation: a 5x5 image of 0s and 1s and the 'X' kernel give a 3x3 feature map.",
        ),
        WorkedExample(
            name="6x6 photo patch, first cell 429",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Filters', the value 429 from the highlighted 3x3 part",
            operation="conv2d",
            x=_a(
                [
                    [18, 54, 51, 239, 244, 188],
                    [55, 121, 75, 78, 95, 88],
                    [35, 24, 204, 113, 109, 221],
                    [3, 154, 104, 235, 25, 130],
                    [15, 253, 225, 159, 78, 233],
                    [68, 85, 180, 214, 245, 0],
                ]
            )[None],
            kernels=_CROSS[None, None],
            notes_printed=_a([[429] + [_NAN] * 3] + [[_NAN] * 4] * 3),
            about="Pixel values of a photo and the 'X' kernel; the notes work out only the first cell.",
        ),
        WorkedExample(
            name="5x5 max pooling with SAME padding",
            source="002_0cf47f1e17e0e08c.txt",
            where="'Pooling Layer - Key Aspects', the grid with 'in' and 'pad' cells",
            operation="pool",
            x=_a(
                [
                    [2.0, 3.0, 0.0, 5.0, 2.5],
                    [2.0, 1.5, 0.5, 0.0, 7.0],
                    [1.5, 5.0, 5.0, 3.0, 2.0],
                    [3.0, 5.0, 7.0, 1.5, 0.0],
                    [2.0, 5.0, 2.0, 1.5, 2.0],
                ]
            ),
            pool_mode="max",
            stride=2,
            padding="same",
            about="A 2x2 window with stride 2 needs 6 columns to cover 5: SAME padding adds one column "
            "on the right and one row at the bottom only, exactly the 'pad' cells of the notes' grid. "
            "The notes do not state the window size; 2x2 with stride 2 is ConvLab's reading of that grid.",
        ),
        WorkedExample(
            name="3 channels, two kernels and a bias",
            source="003_a3ea8e62b8836153.txt",
            where="'Convolutional layers', the 3x3x3 + 1 filter with 28 weights",
            operation="conv2d",
            x=_a(
                [
                    [[1, 0, 2, 1], [0, 1, 3, 0], [2, 1, 0, 1], [1, 2, 1, 0]],
                    [[0, 2, 1, 0], [1, 0, 0, 2], [3, 1, 1, 0], [0, 1, 2, 1]],
                    [[2, 1, 0, 1], [1, 1, 2, 0], [0, 0, 1, 3], [1, 0, 2, 2]],
                ]
            ),
            kernels=_a(
                [
                    [
                        [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
                        [[0, 1, 0], [0, 1, 0], [0, 1, 0]],
                        [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
                    ],
                    [
                        [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
                        [[1, 0, 1], [0, -1, 0], [1, 0, 1]],
                        [[0, -1, 0], [-1, 2, -1], [0, -1, 0]],
                    ],
                ]
            ),
            biases=(1.0, -2.0),
            about="A colour-like input with 3 channels and two 3x3x3 kernels, each with its own bias: "
            "each output cell adds the three per-channel sums and the bias, so the layer gives two "
            "feature maps and has (3 x 3 x 3 + 1) x 2 = 56 parameters. The notes describe this layer "
            "but print no numbers; these are ConvLab's.",
            constructed=True,
        ),
        WorkedExample(
            name="1-D time series, change detector",
            source="003_a3ea8e62b8836153.txt",
            where="'1D, 2D, and 3D convolutions': 1D convolution for time-series data",
            operation="conv1d",
            x=_a([3, 4, 6, 9, 12, 15, 14, 10, 7, 4]),
            kernels=_a([-1, 0, 1]),
            about="Ten days of temperatures and the kernel [-1, 0, 1]: each output is the rise over two "
            "days, positive while it warms and negative while it cools. Numbers are ConvLab's.",
            constructed=True,
        ),
        WorkedExample(
            name="Transposed convolution, 2x2 input, stride 2",
            source="003_a3ea8e62b8836153.txt",
            where="'Backpropagation in convolutional layers': transposed convolution",
            operation="transposed",
            x=_a([[1, 2], [3, 4]]),
            kernels=_a([[1, 0, -1], [2, 1, 0], [0, 1, 1]]),
            stride=2,
            about="A transposed convolution spreads a 2x2 input out to 5x5: each input value stamps a "
            "copy of the kernel onto the output, and overlapping stamps add. The same numbers come "
            "from an ordinary convolution with the flipped kernel over the input with zeros inserted. "
            "Numbers are ConvLab's.",
            constructed=True,
        ),
        WorkedExample(
            name="Practice: 8x7 image, 3x3 conv, ReLU, 2x2 max pool stride 1",
            source="001_82aa0efdcb64f8e9.txt",
            where="'Practice Example': a 3x3 convolution with stride 1, then 2x2 max pooling with stride 1",
            operation="chain",
            x=_a(
                [[3, 1, 0, 2, 5, 6, 1], [4, 2, 1, 0, 3, 7, 2], [5, 3, 2, 1, 0, 4, 6], [1, 0, 6, 7, 2, 1, 3]]
                + [[0, 2, 7, 9, 4, 0, 1], [2, 1, 3, 8, 5, 2, 0], [6, 4, 1, 2, 1, 3, 5], [7, 5, 2, 0, 1, 4, 6]]
            )[None],
            kernels=_a([[0, 1, 0], [1, -4, 1], [0, 1, 0]])[None, None],
            pool_stride=1,
            about="The notes' exercise: an 8x7 image (read as 8 rows, 7 columns) through a 3x3 convolution "
            "(8 - 3 + 1 = 6 by 7 - 3 + 1 = 5) and 2x2 max pooling with stride 1 (5 by 4). The notes' figure "
            "with the image and kernel is missing from their text and they print no answer, so the numbers "
            "are ConvLab's (a Laplacian kernel, which gives negative values). The notes' question has no "
            "ReLU; ConvLab puts one between, as the notes' next slide says typical layers do: untick ReLU "
            "for the question exactly as asked.",
            constructed=True,
        ),
        WorkedExample(
            name="Backward pass, 5x5 input, 3x3 kernel, stride 2",
            source="003_a3ea8e62b8836153.txt",
            where="'Backpropagation in convolutional layers'",
            operation="backward",
            x=_a([[1, 2, 0, 1, 3], [0, 1, 2, 3, 1], [2, 0, 1, 0, 2], [1, 3, 0, 1, 0], [0, 1, 2, 1, 1]])[None],
            kernels=_a([[1, 2, 0], [0, 1, -1], [3, 0, 1]])[None, None],
            grad_out=_a([[1, -1], [2, 0.5]]),
            stride=2,
            about="Given dL/dy for the 2x2 output, dL/dx is a convolution of dL/dy with the flipped kernel and "
            "dL/dW a correlation of x with dL/dy. The notes say the backward pass is a convolution 'with the "
            "same parameters' and a flipped filter; that holds at stride 1 only. At stride 2 dL/dy is first "
            "spread out with a zero between its cells, padded by d(k - 1) - p = 2, and the flipped kernel "
            "then slides at stride 1. Numbers are ConvLab's.",
            constructed=True,
        ),
    ]


EXAMPLES: dict[str, WorkedExample] = {ex.name: ex for ex in _examples()}
"""Example name -> :class:`WorkedExample`, in the order the app lists them."""


def compute(ex: WorkedExample) -> np.ndarray:
    """The correct output of a worked example, computed by :mod:`cnn_core.ops`.

    Returns (M, out_h, out_w) for "conv2d", (out_h, out_w) for "pool", "transposed" and "chain" (the
    pooled map), (out_len,) for "conv1d" and dL/dx (C, H, W) for "backward".
    """
    kw = dict(stride=ex.stride, padding=ex.padding, dilation=ex.dilation)
    if ex.operation == "conv2d":
        return ops.conv2d_layer(ex.x, ex.kernels, np.array(ex.biases), **kw)
    if ex.operation == "conv1d":
        return ops.conv1d(ex.x, ex.kernels, bias=ex.biases[0], **kw)
    if ex.operation == "chain":
        pool = dict(pool_size=ex.pool_size, pool_stride=ex.pool_stride)
        return ops.conv_relu_pool(ex.x[0], ex.kernels[0, 0], bias=ex.biases[0], **pool, **kw).pooled
    if ex.operation == "backward":
        return ops.conv2d_backward(ex.x, ex.kernels[0], ex.grad_out, **kw)[0]
    if ex.operation == "transposed":
        return ops.conv_transpose2d(
            ex.x, ex.kernels, stride=ex.stride, padding=int(ex.padding), dilation=ex.dilation, bias=ex.biases[0]
        )
    return ops.pool2d(ex.x, ex.pool_size, stride=ex.stride, padding=ex.padding, mode=ex.pool_mode)


def discrepancies(ex: WorkedExample, *, tol: float = 1e-9) -> list[Discrepancy]:
    """Cells where the value printed in the notes differs from the computed one (row-major order)."""
    if ex.notes_printed is None:
        return []
    correct = compute(ex)
    printed = np.asarray(ex.notes_printed, dtype=np.float64).reshape(correct.shape)
    out = []
    for idx in np.ndindex(correct.shape):
        if not np.isnan(printed[idx]) and abs(printed[idx] - correct[idx]) > tol:
            out.append(
                Discrepancy(cell=tuple(int(i) for i in idx), printed=float(printed[idx]), correct=float(correct[idx]))
            )
    return out
