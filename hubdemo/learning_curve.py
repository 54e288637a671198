"""How many photos do you need? Validation accuracy against training photos per class, from cached features.

For each size (1, 2, 5, 10, 20, 50 photos per class, and all of them) a few
random draws of that many training photos per class each train a linear
classifier on the photos' features, and all are judged on the same validation
photos. The classifier is scikit-learn's multinomial logistic regression: the
same kind of model as the app's head (a linear layer with a softmax), fitted to
convergence in a fraction of a second, so the whole curve takes seconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

SIZES = (1, 2, 5, 10, 20, 50)
DRAWS = 5


@dataclass(frozen=True)
class Point:
    """Accuracy with ``per_class`` training photos per class, over ``draws`` random draws."""

    per_class: int
    accuracy: float  # Mean over the draws.
    low: float  # The worst draw.
    high: float  # The best draw.
    draws: int
    all_photos: bool = False  # The last point: every training photo (``per_class`` is then their mean).

    def as_dict(self) -> dict:
        return {"per_class": self.per_class, "accuracy": self.accuracy, "low": self.low, "high": self.high,
                "draws": self.draws, "all": self.all_photos}


def fit_and_score(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray) -> float:
    """Validation accuracy of a multinomial logistic regression fitted on ``train_x``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 1 photo per class converges slowly; it is still right.
        model = LogisticRegression(max_iter=300).fit(train_x, train_y)
    return float((model.predict(val_x) == val_y).mean())


def learning_curve(features: np.ndarray, labels, train_idx, val_idx, *, sizes=SIZES, draws: int = DRAWS,
                   seed: int = 0, progress: Callable[[int, int], None] | None = None) -> list[Point]:
    """Accuracy on ``val_idx`` against training photos per class drawn from ``train_idx``.

    Args:
        features: one row per photo (cached feature vectors).
        labels: the class of each photo.
        sizes: photos per class to try; sizes above the smallest class's training photos are left out.
        progress: called as ``progress(fits_done, fits_total)``.

    Raises:
        HubDemoError: fewer than two classes in the training photos.
    """
    labels = np.asarray(labels)
    train_idx, val_idx = np.asarray(train_idx), np.asarray(val_idx)
    classes = np.unique(labels[train_idx])
    if len(classes) < 2:
        raise HubDemoError(_("A learning curve needs training photos of at least two classes."))
    by_class = {c: train_idx[labels[train_idx] == c] for c in classes}
    smallest = min(len(members) for members in by_class.values())
    sizes = [n for n in sizes if n < smallest]
    total, done = len(sizes) * draws + 1, 0
    rng = np.random.default_rng(seed)
    val_x, val_y = features[val_idx], labels[val_idx]
    points = []
    for n in sizes:
        scores = []
        for _draw in range(draws):
            chosen = np.concatenate([rng.choice(members, n, replace=False) for members in by_class.values()])
            scores.append(fit_and_score(features[chosen], labels[chosen], val_x, val_y))
            done += 1
            if progress:
                progress(done, total)
        points.append(Point(n, float(np.mean(scores)), float(np.min(scores)), float(np.max(scores)), draws))
    everything = fit_and_score(features[train_idx], labels[train_idx], val_x, val_y)
    if progress:
        progress(total, total)
    points.append(Point(round(len(train_idx) / len(classes)), everything, everything, everything, 1, True))
    return points
