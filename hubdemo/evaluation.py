"""How well a classifier does on labelled photos: accuracy, per class, confusion, each photo's verdict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _


@dataclass(frozen=True)
class Verdict:
    """One photo's outcome: its true class, the predicted one, and how sure the model was."""

    file: Path
    true: str
    predicted: str
    probability: float

    @property
    def correct(self) -> bool:
        return self.predicted == self.true


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

    @property
    def verdicts(self) -> list[Verdict]:
        """One per photo, in order."""
        names = self.class_names
        return [Verdict(f, names[t], names[p], float(c))
                for f, t, p, c in zip(self.files, self.true, self.predicted, self.confidence)]

    def cell(self, true: int, predicted: int) -> list[Verdict]:
        """The photos of class ``true`` predicted as ``predicted``: one cell of the confusion matrix."""
        return [v for v, t, p in zip(self.verdicts, self.true, self.predicted) if t == true and p == predicted]

    @property
    def mistakes(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.correct]

    def as_record(self) -> dict:
        """Plain values for a JSON file (a run kept on disk)."""
        return {"class_names": list(self.class_names), "files": [str(f) for f in self.files],
                "true": self.true.tolist(), "predicted": self.predicted.tolist(),
                "confidence": [round(float(c), 6) for c in self.confidence]}

    @classmethod
    def from_record(cls, record: dict) -> Evaluation:
        """The evaluation :meth:`as_record` wrote; raises ValueError when the record does not hold together."""
        evaluation = cls(tuple(map(str, record["class_names"])), tuple(Path(f) for f in record["files"]),
                         np.asarray(record["true"], dtype=int), np.asarray(record["predicted"], dtype=int),
                         np.asarray(record["confidence"], dtype=float))
        n, classes = len(evaluation.files), len(evaluation.class_names)
        if not (len(evaluation.true) == len(evaluation.predicted) == len(evaluation.confidence) == n) or (
                n and not (0 <= min(evaluation.true.min(), evaluation.predicted.min())
                           and max(evaluation.true.max(), evaluation.predicted.max()) < classes)):
            raise ValueError("an evaluation record that does not hold together")
        return evaluation


def evaluate(probabilities: np.ndarray, true: np.ndarray, class_names, files) -> Evaluation:
    """An Evaluation from a (n, classes) probability array and the true class indices."""
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, int)
    confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0)
    return Evaluation(tuple(class_names), tuple(Path(f) for f in files), np.asarray(true, dtype=int),
                      predicted.astype(int), confidence)


def evaluate_dataset(classifier, dataset, indices=None) -> tuple[Evaluation, np.ndarray]:
    """How right ``classifier`` is on ``dataset``'s photos (all, or those at ``indices``); classes matched by name.

    Args:
        classifier: a ``models.ImageClassifier`` (a trained run's model or a reopened export).

    Returns:
        The evaluation, in the model's class order, and the dataset indices of
        the photos it covers (unreadable ones are left out).

    Raises:
        HubDemoError: the dataset has classes the model does not know.
    """
    names = tuple(classifier.labels)
    position = {name: i for i, name in enumerate(names)}
    unknown = [c for c in dataset.class_names if c not in position]
    if unknown:
        raise HubDemoError(_("The model does not know the dataset's classes {unknown}; it knows: "
                             "{names}. Classes are matched by name: pick the dataset it was "
                             "trained on, or one with the same class folders.").format(
                                     unknown=', '.join(unknown), names=', '.join(names)))
    indices = np.arange(len(dataset)) if indices is None else np.asarray(indices, dtype=int)
    probs, skipped = classifier.file_probabilities([dataset.files[i] for i in indices])
    keep = np.array([k for k in range(len(indices)) if k not in skipped], dtype=int)
    true = [position[dataset.class_names[dataset.labels[i]]] for i in indices[keep]]
    files = [dataset.files[i] for i in indices[keep]]
    return evaluate(probs[keep] if len(keep) else np.zeros((0, len(names))), true, names, files), indices[keep]
