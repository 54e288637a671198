"""The dataset grid: which images each batch shows, in which order."""

from __future__ import annotations

import numpy as np

GRID_SIZE = 30  # The tutorial's figure shows 30 images of a 32-image batch.


def order(labels, shuffle_seed: int | None) -> np.ndarray:
    """The browsing order: the classes in turn, or a reproducible shuffle.

    A folder holds its classes one after another, so in its own order the first batch would show one
    class only (thirty zeros of the digits). Taking the classes in turn (the first photo of each class,
    then the second of each, ...) shows every class from the first batch, as the tutorial's shuffled
    batch does, and still keeps each class's photos in their folder order.
    """
    labels = np.asarray(labels, dtype=int)
    if shuffle_seed is not None:
        return np.random.default_rng(shuffle_seed).permutation(len(labels))
    by_class = np.argsort(labels, kind="stable")  # Class by class, each in folder order.
    sorted_labels = labels[by_class]
    rank = np.empty(len(labels), dtype=int)  # Each photo's place within its own class.
    rank[by_class] = np.arange(len(labels)) - np.searchsorted(sorted_labels, sorted_labels)
    return np.lexsort((labels, rank))


def num_batches(n_items: int, size: int = GRID_SIZE) -> int:
    return max(1, -(-n_items // size))


def batch(order_: np.ndarray, number: int, size: int = GRID_SIZE) -> np.ndarray:
    """Indices of batch ``number`` (wrapping around), at most ``size`` of them."""
    number %= num_batches(len(order_), size)
    return order_[number * size:(number + 1) * size]
