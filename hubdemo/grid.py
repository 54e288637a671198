"""The dataset grid: which images each batch shows, and how right a fine-tuned model was on them."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Verdict:
    """A fine-tuned model's guess for one image, against its true class."""

    predicted: str
    true: str
    probability: float

    @property
    def correct(self) -> bool:
        return self.predicted == self.true


def accuracy(verdicts: list[Verdict]) -> float:
    return float(np.mean([v.correct for v in verdicts])) if verdicts else 0.0


def verdicts(probabilities: np.ndarray, true_labels, class_names) -> list[Verdict]:
    """One Verdict per image from a (n, classes) probability array."""
    best = probabilities.argmax(axis=1)
    return [Verdict(class_names[b], class_names[t], float(probabilities[i, b]))
            for i, (b, t) in enumerate(zip(best, true_labels))]
