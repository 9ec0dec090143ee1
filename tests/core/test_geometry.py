"""cnn_core.geometry against torch's real output shapes and the course notes' padding examples."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from cnn_core import geometry


@pytest.mark.parametrize(
    "n,k,s,p,d",
    [
        c
        for c in itertools.product([1, 4, 5, 6, 7, 13], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])
        if c[0] + 2 * c[3] >= c[4] * (c[1] - 1) + 1
    ],
)
def test_output_size_matches_torch(n, k, s, p, d):
    out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
    assert geometry.output_size(n, k, stride=s, padding=p, dilation=d) == out.shape[-1]


def test_worked_examples_of_the_notes():
    assert geometry.output_size(6, 3) == 4  # 6x6 input, 3x3 vertical-edge kernel
    assert geometry.output_size(6, 3, stride=2) == 2
    assert geometry.same_padding(5, 3) == (1, 1)  # 5x5 input, SAME with a 3x3 kernel -> 7x7 padded
    assert geometry.output_size(5, 3, padding=(1, 1)) == 5
    # TF's SAME example: width 13, filter 6, stride 5 -> ceil(13 / 5) = 3 outputs, padding 1 left and 2 right.
    assert geometry.same_padding(13, 6, stride=5) == (1, 2)
    assert geometry.output_size(13, 6, stride=5, padding=(1, 2)) == 3


@pytest.mark.parametrize("n,k,s,d", list(itertools.product([1, 5, 8, 13, 28], [1, 2, 3, 4, 5], [1, 2, 3], [1, 2])))
def test_same_padding_gives_ceil_n_over_s(n, k, s, d):
    before, after = geometry.same_padding(n, k, stride=s, dilation=d)
    assert after - before in (0, 1)
    assert geometry.output_size(n, k, stride=s, padding=(before, after), dilation=d) == -(-n // s)


def test_full_padding_lets_every_overlap_count():
    assert geometry.full_padding(3) == (2, 2)
    assert geometry.output_size(4, 3, padding=geometry.full_padding(3)) == 6


def test_working_shows_numbers_and_dropped_cells():
    w = geometry.explain_output_size(6, 3, stride=2)
    assert w.size == 2 and w.dropped == 1 and not w.divides_evenly
    assert w.formula() == "floor((6 + 2*0 - 1*(3 - 1) - 1) / 2) + 1 = floor(3 / 2) + 1 = 1 + 1 = 2"
    assert geometry.explain_output_size(7, 3, stride=2).dropped == 0


@pytest.mark.parametrize(
    "kwargs,words",
    [
        (dict(n=3, kernel=5), "larger than the padded input"),
        (dict(n=5, kernel=3, stride=0), "stride must be at least 1"),
        (dict(n=5, kernel=3, padding=-1), "cannot be negative"),
        (dict(n=5, kernel=0), "kernel size must be at least 1"),
        (dict(n=5, kernel=3, dilation=3), "dilation 3 spreads it over 7 cells"),
        (dict(n=5, kernel=2.5), "whole number"),
    ],
)
def test_impossible_settings_raise_readable_value_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        geometry.output_size(**kwargs)


def test_transposed_output_size_matches_torch():
    for n, k, s, p, op, d in itertools.product([1, 3, 4], [1, 2, 3], [1, 2, 3], [0, 1], [0, 1], [1, 2]):
        if op >= s and op >= d:
            continue
        try:
            ours = geometry.transposed_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
        except ValueError:
            continue
        ref = F.conv_transpose2d(
            torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p, output_padding=op, dilation=d
        )
        assert ours == ref.shape[-1]


def test_params_macs_and_receptive_field():
    conv = torch.nn.Conv2d(3, 32, 3)
    assert geometry.conv_params(3, 3, 3, 32) == sum(p.numel() for p in conv.parameters()) == 896
    assert geometry.conv_params(3, 3, 3, 32, bias=False) == 864
    assert geometry.conv_macs(3, 3, 3, 32, 30, 30) == 27 * 32 * 900
    rf, jump = geometry.receptive_field(1, 1, 3)  # conv 3x3
    rf, jump = geometry.receptive_field(rf, jump, 2, stride=2)  # pool 2x2
    rf, jump = geometry.receptive_field(rf, jump, 3)  # conv 3x3
    assert (rf, jump) == (8, 2)
