"""Numbers as people write and read them: the one formatter and the one parser of typed numbers
and matrices.

:func:`format_number` writes ``3`` not ``3.0`` and ``-∞`` for padding; :func:`parse_number` reads
``"3"``, ``"-0.5"``, ``"1/9"`` or ``"1e-3"``; :func:`parse_matrix` reads a typed matrix (rows on
lines, channels separated by blank lines). Every refusal is a ``ValueError`` with a sentence a
student can read.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["format_number", "parse_matrix", "parse_number", "split_blocks"]

FROM_ZERO = "(counting from 0)"  # every page counts rows, columns and channels from 0


def format_number(value: float, digits: int = 4) -> str:
    """Write a number the way a student would: ``3`` not ``3.0``, ``-0.25``, ``-∞`` for padding.

    >>> format_number(3.0), format_number(0.1 + 0.2), format_number(-np.inf)
    ('3', '0.3', '-∞')
    """
    value = float(value)
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    if np.isnan(value):
        return "?"
    rounded = round(value, digits)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{digits}f}".rstrip("0").rstrip(".")


def parse_number(text: str) -> float:
    """Read a typed number: ``"3"``, ``"-0.5"``, ``"1/9"``, ``"1e-3"`` or ``"−1"`` (Unicode minus).

    Raises
    ------
    ValueError
        With a sentence when the text is empty, not a number, NaN or infinite.

    >>> parse_number("17/4"), parse_number(" −2.5 ")
    (4.25, -2.5)
    """
    cleaned = str(text).strip().replace("−", "-").replace(" ", "")
    if not cleaned:
        raise ValueError("The answer is empty: type a number such as 7, -2.5 or 17/4.")
    try:
        if "/" in cleaned:
            num, den = cleaned.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(cleaned)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{text!r} is not a number: type something like 7, -2.5 or 17/4.") from None
    if not np.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number.")
    return value


def split_blocks(text: str) -> list[list[list[str]]]:
    """Typed matrix text -> channels of rows of cell strings, nothing parsed yet.

    Rows are lines; cells are split by commas, spaces or tabs; channels are separated by a blank
    line. Blank input gives ``[]``.
    """
    blocks = [b for b in re.split(r"\n\s*\n", (text or "").strip()) if b.strip()]
    return [[line.replace(",", " ").split() for line in b.strip().splitlines()] for b in blocks]


def parse_matrix(text: str, *, max_side: int, max_channels: int = 1, what: str = "matrix") -> np.ndarray:
    """Read a typed matrix into (C, H, W).

    Numbers are separated by commas, spaces or tabs, one row per line, channels separated by a
    blank line; each cell is read by :func:`parse_number`. ``what`` names the matrix in messages
    ("input", "kernel 1").

    Raises
    ------
    ValueError
        With a sentence naming the problem (and the bad cell) when the text is empty, ragged,
        larger than ``max_side``, has more than ``max_channels`` channels, channels of different
        sizes, or a cell that is not a finite number.
    """
    blocks = split_blocks(text)
    if not blocks:
        raise ValueError(f"The {what} is empty: type at least one number.")
    if len(blocks) > max_channels:
        raise ValueError(f"The {what} has {len(blocks)} channels; at most {max_channels} are allowed here.")
    channels = []
    for ci, rows in enumerate(blocks):
        label = f" channel {ci}," if len(blocks) > 1 else ""
        if any(len(r) != len(rows[0]) for r in rows):
            raise ValueError(
                f"Every row of the {what} must have the same number of values ({label.strip(' ,') or 'check the rows'})."
            )
        if len(rows) > max_side or len(rows[0]) > max_side:
            raise ValueError(f"The {what} can be at most {max_side}x{max_side}; it is {len(rows)}x{len(rows[0])}.")
        channels.append(
            [
                [_cell(v, what, f"{label} row {r}, column {c}".strip()) for c, v in enumerate(row)]
                for r, row in enumerate(rows)
            ]
        )
    if len({(len(ch), len(ch[0])) for ch in channels}) > 1:
        raise ValueError(f"All channels of the {what} must have the same height and width.")
    return np.array(channels, dtype=np.float64)


def _cell(cell: str, what: str, where: str) -> float:
    try:
        return parse_number(cell)
    except ValueError:
        raise ValueError(f"The {what} holds {cell!r} at {where} {FROM_ZERO}, which is not a finite number.") from None
