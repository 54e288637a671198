"""The feature map: a dataset's feature vectors (1,280 numbers per photo) laid out in two dimensions.

Photos whose features are alike land close together, so a student sees why a
new last layer can tell the classes apart: ImageNet's features already group
them. PCA is instant and keeps the largest directions of spread; t-SNE
(scikit-learn) and UMAP keep neighbours together and show the groups more
clearly, in a few seconds. A new photo is placed among its nearest photos by
features (:func:`place`), and called a stranger when it is much less like its
nearest than the dataset's photos usually are to theirs (:func:`usual_similarity`).
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np

from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _

METHODS = ("pca", "tsne", "umap")
TITLES = {"pca": N_("PCA"), "tsne": N_("t-SNE"), "umap": N_("UMAP")}


@dataclass(frozen=True)
class MapPoint:
    file: str
    label: str
    x: float
    y: float


def project(features: np.ndarray, method: str = "pca", *, seed: int = 0) -> np.ndarray:
    """Each row of ``features`` as a point ``(x, y)``; an (n, 2) array.

    Raises:
        HubDemoError: an unknown method, or too few photos to lay out.
    """
    if method not in METHODS:
        raise HubDemoError(_("Unknown method '{method}'. Choose one of: {methods}.").format(
                method=method, methods=', '.join(METHODS)))
    features = np.asarray(features, np.float32)
    if len(features) < 3:
        raise HubDemoError(_("A map needs at least 3 readable photos, not {n_features}.").format(
                n_features=len(features)))
    if method == "pca":
        return _pca(features)
    if method == "tsne":
        from sklearn.manifold import TSNE
        perplexity = min(30.0, (len(features) - 1) / 3)  # t-SNE needs more photos than 3 × perplexity.
        return TSNE(2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(features)
    return _umap(features, seed)


def _pca(features: np.ndarray) -> np.ndarray:
    """The two directions along which the photos' features differ most."""
    centred = features - features.mean(axis=0)
    # The eigenvectors of the small (photos × photos) Gram matrix: fast for a few thousand photos.
    values, vectors = np.linalg.eigh(centred @ centred.T)
    return vectors[:, ::-1][:, :2] * np.sqrt(np.maximum(values[::-1][:2], 0))


def _umap(features: np.ndarray, seed: int) -> np.ndarray:
    # umap-learn's package tries to import its parametric variant, which imports Keras 3; the app must
    # not have Keras 3 in its process (Streamlit would clear its session after every run).
    sys.modules.setdefault("umap.parametric_umap", None)
    import umap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "n_jobs overridden by setting random_state": wanted.
        neighbours = min(15, len(features) - 1)
        return umap.UMAP(n_neighbors=neighbours, random_state=seed).fit_transform(features)


def feature_map(dataset, features: np.ndarray, skipped: dict[int, str], method: str = "pca",
                *, seed: int = 0) -> list[MapPoint]:
    """One point per readable photo of ``dataset``, from its feature vectors (rows of skipped photos are left out)."""
    keep = _kept(len(dataset), skipped)
    xy = project(features[keep], method, seed=seed)
    return [MapPoint(str(dataset.files[i]), dataset.class_names[dataset.labels[i]], float(x), float(y))
            for i, (x, y) in zip(keep, xy)]


@dataclass(frozen=True)
class Neighbour:
    file: str
    label: str
    similarity: float  # Cosine similarity of the two photos' features: 1 for the same features.


@dataclass(frozen=True)
class Placed:
    """A new photo on a map: its place and the dataset's photos nearest to it in feature space, nearest first."""
    x: float
    y: float
    neighbours: tuple[Neighbour, ...]

    def votes(self) -> list[tuple[str, int]]:
        """How many of the neighbours each class has, most first (ties: the class of the nearer photo first)."""
        counts: dict[str, int] = {}
        for n in self.neighbours:
            counts[n.label] = counts.get(n.label, 0) + 1
        return sorted(counts.items(), key=lambda item: -item[1])


NEIGHBOURS = 5


def place(query: np.ndarray, features: np.ndarray, skipped: dict[int, str], points: list[MapPoint],
          k: int = NEIGHBOURS) -> list[Placed]:
    """Where new photos (rows of ``query``, their feature vectors) land on a map of :func:`feature_map` ``points``.

    Each lands at the mean place of its ``k`` nearest photos by the cosine
    similarity of their features. One rule for every layout: t-SNE and UMAP
    place only the photos they were given, and a photo's neighbours in feature
    space are the lesson anyway: photos that look alike to the network have
    similar features, which is why a new last layer can learn classes from them.

    Args:
        features, skipped: the dataset's feature vectors and unreadable photos, as given to :func:`feature_map`.
    """
    rows = np.asarray(features, np.float32)[_kept(len(features), skipped)]
    unit = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    asked = np.atleast_2d(np.asarray(query, np.float32))
    asked = asked / np.maximum(np.linalg.norm(asked, axis=1, keepdims=True), 1e-12)
    similarity = asked @ unit.T
    k = min(k, len(points))
    placed = []
    for row in similarity:
        nearest = np.argsort(-row, kind="stable")[:k]
        placed.append(Placed(float(np.mean([points[i].x for i in nearest])), float(np.mean([points[i].y for i in nearest])),
                             tuple(Neighbour(points[i].file, points[i].label, float(row[i])) for i in nearest)))
    return placed


@dataclass(frozen=True)
class Usual:
    """How alike a dataset's photos usually are to their nearest other photo (cosine similarity of features)."""
    median: float
    low: float  # All but one in twenty photos have a neighbour at least this alike.


def usual_similarity(features: np.ndarray, skipped: dict[int, str], *, sample: int = 300, seed: int = 0) -> Usual:
    """What a photo that belongs with the dataset looks like, in similarity to its nearest other photo.

    A photo placed on the map whose nearest photo is much less alike than
    this is like nothing in the dataset (a person among flowers), yet a model
    trained on its classes must still call it one of them. Measured on up to
    ``sample`` photos, each against every photo: not every pair of a large
    dataset (about a third of a second for 50,000 photos' 1,280 features, measured).
    """
    rows = np.asarray(features, np.float32)[_kept(len(features), skipped)]
    unit = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    chosen = np.random.default_rng(seed).choice(len(unit), min(sample, len(unit)), replace=False)
    similarity = unit[chosen] @ unit.T
    similarity[np.arange(len(chosen)), chosen] = -1.0  # Not itself.
    nearest = similarity.max(axis=1)
    return Usual(float(np.median(nearest)), float(np.percentile(nearest, 5)))


def _kept(count: int, skipped: dict[int, str]) -> list[int]:
    """The rows of a dataset's features that are on its map: every photo but the unreadable ones."""
    return [i for i in range(count) if i not in skipped]
