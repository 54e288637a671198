"""The feature map: a dataset's feature vectors (1,280 numbers per photo) laid out in two dimensions.

Photos whose features are alike land close together, so a student sees why a
new last layer can tell the classes apart: ImageNet's features already group
them. PCA is instant and keeps the largest directions of spread; t-SNE
(scikit-learn) and UMAP keep neighbours together and show the groups more
clearly, in a few seconds.
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
    keep = [i for i in range(len(dataset)) if i not in skipped]
    xy = project(features[keep], method, seed=seed)
    return [MapPoint(str(dataset.files[i]), dataset.class_names[dataset.labels[i]], float(x), float(y))
            for i, (x, y) in zip(keep, xy)]
