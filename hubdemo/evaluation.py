"""How well a trained classifier does on held-out images: accuracy, per class, confusion, mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Mistake:
    file: Path
    true: str
    predicted: str
    probability: float


@dataclass(frozen=True)
class Evaluation:
    """Predictions on a labelled set. ``confusion[i][j]`` counts images of class i predicted as j."""

    class_names: tuple[str, ...]
    files: tuple[Path, ...]
    true: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.true == self.predicted)) if len(self.true) else 0.0

    @property
    def confusion(self) -> np.ndarray:
        n = len(self.class_names)
        matrix = np.zeros((n, n), dtype=int)
        np.add.at(matrix, (self.true, self.predicted), 1)
        return matrix

    @property
    def per_class(self) -> dict[str, float]:
        """Share of each class's images predicted right (recall); NaN-free: a class with no images is left out."""
        matrix = self.confusion
        return {name: float(matrix[i, i] / matrix[i].sum())
                for i, name in enumerate(self.class_names) if matrix[i].sum()}

    def cell_files(self, true: int, predicted: int) -> list[Path]:
        """The images of class ``true`` predicted as ``predicted``: one cell of the confusion matrix."""
        return [f for f, t, p in zip(self.files, self.true, self.predicted) if t == true and p == predicted]

    @property
    def mistakes(self) -> list[Mistake]:
        return [Mistake(f, self.class_names[t], self.class_names[p], float(c))
                for f, t, p, c in zip(self.files, self.true, self.predicted, self.confidence) if t != p]


def evaluate(probabilities: np.ndarray, true: np.ndarray, class_names, files) -> Evaluation:
    """An Evaluation from a (n, classes) probability array and the true class indices."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, int)
    confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0)
    return Evaluation(tuple(class_names), tuple(Path(f) for f in files), np.asarray(true, dtype=int),
                      predicted.astype(int), confidence)
