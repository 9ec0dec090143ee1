"""Every colour the plot builders draw with: one place, all of it colour-blind safe.

- Categories: the Okabe-Ito palette (:data:`OKABE_ITO`, the same list as :data:`app.pictures.OKABE_ITO`,
  which the still pictures and the architecture diagram use by index) and :data:`LINES`, the order lines
  and bars of several series take on a white chart: the colours that keep at least 3:1 contrast with white
  first, yellow never (1.1:1, a yellow line is invisible on a projector). Every pair of :data:`LINES`
  stays apart for deuteranopia, protanopia and tritanopia (``tests/app/test_colours.py`` simulates them
  with Machado et al.'s 2009 matrices and measures CIEDE2000), and no series relies on colour alone:
  each also has its own dash, marker or hatch.
- Values: :data:`SEQUENTIAL` (cividis) for magnitudes, :data:`DIVERGING` (ColorBrewer's red-blue, white
  at 0: blue against red, never red against green) for signed values, :data:`ONE_SIGN` (blues) for an
  arithmetic grid whose numbers all have one sign, :data:`PIXELS` (black 0 to white 255) for pixel values.
- Right and wrong: :data:`RIGHT` (bluish green) and :data:`OTHER` (orange), always with the ✓ of
  :data:`RIGHT_MARK` beside the right one, so the mark does not rest on colour.
- Neutrals: ink, paper and the greys of padding, hatches and grid lines (:data:`NEUTRALS`).

:data:`ALLOWED` is the set every builder's colours must come from (the test builds each figure and
collects them).
"""

from __future__ import annotations

# Okabe & Ito (2008), in the order app.pictures has always listed it (indexes there and in diagram.py).
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"
OKABE_ITO = [ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK]

# Series on a white chart, in this order (the i-th run, arm or stage takes LINES[i % len(LINES)]).
LINES = (BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, BLACK, SKY_BLUE, ORANGE)
FIRST, SECOND = LINES[0], LINES[1]  # the two series of a pair: training / validation, input / output
HIGHLIGHT, REST = BLUE, SKY_BLUE  # the one bar that matters (the top class) against the others
RIGHT, OTHER = BLUISH_GREEN, ORANGE  # a revealed right answer against the other answers
RIGHT_MARK = "✓"  # written beside the right answer: colour is never the only sign

# Colour scales, by plotly name (app.pictures samples the same names for the PNGs).
SEQUENTIAL = "cividis"
DIVERGING = "RdBu"  # ColorBrewer red-blue: negative red, 0 white, positive blue
ONE_SIGN = "Blues"
WHITE = "#FFFFFF"
PIXELS = [[0, BLACK], [1, WHITE]]

# Neutrals: ink, paper, and the greys that mark cells without a hue.
INK_LIGHT = WHITE  # numbers on dark cells
PAD_FILL = "#D9D9D9"  # padding / inserted zeros of an arithmetic grid (also hatched)
PAD_TEXT = "#555555"  # a padding cell's number
HATCH = "#7F7F7F"  # the corner strokes of padding
CROSS = "#777777"  # the x marking a hatched cell of a small matrix
GRID_LINE = "#9E9E9E"  # lines between a grid's cells
TRANSPARENT = "rgba(0,0,0,0)"
NEUTRALS = (BLACK, WHITE, PAD_FILL, PAD_TEXT, HATCH, CROSS, GRID_LINE)

ALLOWED_SCALES = frozenset({SEQUENTIAL, DIVERGING, ONE_SIGN})
ALLOWED = frozenset({*OKABE_ITO, *NEUTRALS, TRANSPARENT})


def series_colour(i: int) -> str:
    """The colour of the i-th series (a run, an arm, a stage): :data:`LINES` in turn."""
    return LINES[i % len(LINES)]
