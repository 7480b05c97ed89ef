"""Tests of kata 00: shapes and broadcasting. Oracles: plain loops over elements."""

import pytest
import torch
from support import assert_close, assert_tensor, call, said

SHAPES = [(3, 4, 5), (1, 2, 2), (3, 1, 7)]


@pytest.mark.blank("00.1")
def test_00_1_add_batch_dim(kata):
    for seed, shape in enumerate(SHAPES):
        torch.manual_seed(seed)
        image = torch.rand(shape)
        out = kata.add_batch_dim(image)
        where = call("add_batch_dim", image)
        assert_tensor(out, shape=(1, *shape), dtype=image.dtype, call=where, seed=seed)
        assert_close(out[0], image, call=where, seed=seed, name=said("output[0]", ja="出力[0]"))


def normalize_by_loop(images, mean, std):
    out = torch.empty_like(images)
    for c in range(images.shape[1]):
        out[:, c] = (images[:, c] - mean[c]) / std[c]
    return out


@pytest.mark.blank("00.2")
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 3, 3, 3), (3, 4, 2, 4), (2, 1, 3, 3)])
def test_00_2_normalize_channels(kata, shape):
    # (1, 3, 3, 3) and (3, 4, 2, 4): a mean of shape (C,) broadcasts silently against W or B there
    torch.manual_seed(1)
    images = torch.rand(shape)
    mean, std = torch.rand(shape[1]), torch.rand(shape[1]) + 0.5
    out = kata.normalize_channels(images, mean, std)
    assert_close(out, normalize_by_loop(images, mean, std), call=call("normalize_channels", images, mean, std), seed=1)


def sq_distances_by_loop(a, b):
    out = torch.empty(len(a), len(b))
    for i in range(len(a)):
        for j in range(len(b)):
            out[i, j] = ((a[i] - b[j]) ** 2).sum()
    return out


@pytest.mark.blank("00.3")
@pytest.mark.parametrize("n, m, d", [(4, 3, 2), (1, 5, 3), (3, 3, 1), (2, 2, 4)])
def test_00_3_pairwise_sq_distances(kata, n, m, d):
    torch.manual_seed(n * 100 + m * 10 + d)
    a, b = torch.randn(n, d), torch.randn(m, d)
    out = kata.pairwise_sq_distances(a, b)
    assert_close(out, sq_distances_by_loop(a, b), call=call("pairwise_sq_distances", a, b), seed=0)
