"""The dataset grid: which images each batch shows, in which order."""

from __future__ import annotations

import numpy as np

COLUMNS, ROWS = 6, 5
GRID_SIZE = COLUMNS * ROWS  # The tutorial's figure shows 30 images of a 32-image batch.


def order(n_items: int, shuffle_seed: int | None) -> np.ndarray:
    """The browsing order: the dataset's own order, or a reproducible shuffle."""
    if shuffle_seed is None:
        return np.arange(n_items)
    return np.random.default_rng(shuffle_seed).permutation(n_items)


def num_batches(n_items: int, size: int = GRID_SIZE) -> int:
    return max(1, -(-n_items // size))


def batch(order_: np.ndarray, number: int, size: int = GRID_SIZE) -> np.ndarray:
    """Indices of batch ``number`` (wrapping around), at most ``size`` of them."""
    number %= num_batches(len(order_), size)
    return order_[number * size:(number + 1) * size]
