"""The app's in-process caches: one model per handle per process, results per file content.

Models are shared singletons (``st.cache_resource``); results are copied per
session (``st.cache_data``). The disk cache below them is TF Hub's and ours
(see ``hubdemo.paths``). Nothing here fits or mutates a cached model.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from PIL import Image

import numpy as np

from hubdemo import datasets, explain, features, first_answer, i18n, images, models, training
from hubdemo.errors import HubDemoError

DISPLAY_SIZE = 640


@st.cache_resource(show_spinner=False, max_entries=4)
def classifier(handle: str) -> models.ImageNetClassifier:
    loaded = models.ImageNetClassifier(handle)
    _loaded.add(handle)
    return loaded


_loaded: set[str] = set()  # Handles whose classifier has loaded in this process.


def sample_answer(handle: str) -> models.ImageResult | None:
    """The sample photo's answer kept from this model build's last launch, while the model itself is still loading.

    None once the model has loaded here (it answers itself, from the cache), or when nothing was kept.
    """
    return None if handle in _loaded else first_answer.recall(handle)


@st.cache_resource(show_spinner=False, max_entries=4)  # A comparison holds up to four.
def extractor(handle: str) -> features.FeatureExtractor:
    """The frozen feature extractor and its feature cache, shared by every session (thread-safe)."""
    return features.FeatureExtractor(handle)


# Results that can carry a message (an unreadable photo, a skipped file, a warning) are kept per
# language: ``lang`` is only part of the key, the message is made in the language of the context.

def classify(handle: str, name: str, data: bytes, k: int = 5) -> models.ImageResult:
    return _classify(handle, name, data, k, i18n.language())


@st.cache_data(show_spinner=False, max_entries=500)
def _classify(handle: str, name: str, data: bytes, k: int, lang: str) -> models.ImageResult:
    (result,) = classifier(handle).classify_files([(name, data)], k=k)
    first_answer.remember(handle, name, data, result)
    return result


def classify_mine(model_uid: str, name: str, data: bytes, k: int, model: models.ImageClassifier) -> models.ImageResult:
    """Your model's guess for one photo; ``model_uid`` names the model in the key (the model is not hashed)."""
    return _classify_mine(model_uid, name, data, k, model, i18n.language())


@st.cache_data(show_spinner=False, max_entries=500)
def _classify_mine(model_uid: str, name: str, data: bytes, k: int, _model: models.ImageClassifier,
                   lang: str) -> models.ImageResult:
    (result,) = _model.classify_files([(name, data)], k=k)
    return result


@st.cache_data(show_spinner=False, max_entries=500)
def display_image(data: bytes) -> Image.Image:
    """The upright RGB image, at most DISPLAY_SIZE pixels wide, for showing (the model sees the original)."""
    image = images.read_image(data)
    image.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE))
    return image


# --- Datasets (copied per session; the files stay on disk) --------------------------------

def digits_dataset() -> datasets.Dataset:
    return _digits_dataset(i18n.language())


@st.cache_data(show_spinner=False, max_entries=2)
def _digits_dataset(lang: str) -> datasets.Dataset:
    return datasets.load_digits_dataset()


def folder_dataset(folder: str, signature: tuple) -> datasets.Dataset:
    """A folder (or a .zip on this computer); ``signature`` is only part of the key, so changes are read again."""
    return _folder_dataset(folder, signature, i18n.language())


@st.cache_data(show_spinner=False, max_entries=20)
def _folder_dataset(folder: str, signature: tuple, lang: str) -> datasets.Dataset:
    del signature
    return datasets.load_source(folder)


def built_dataset(folder: str, signature: tuple, name: str) -> datasets.Dataset:
    """Photos added in the browser (a session's, or the class project's); read again when ``signature`` changes."""
    return _built_dataset(folder, signature, name, i18n.language())


@st.cache_data(show_spinner=False, max_entries=20)
def _built_dataset(folder: str, signature: tuple, name: str, lang: str) -> datasets.Dataset:
    del signature
    return datasets.load_built(Path(folder), name=name)


def imagenet_batch(handle: str, files: tuple[str, ...]) -> list[models.ImageResult]:
    """ImageNet top-5 for one grid batch; a batch seen before is not predicted again, unless a photo changed."""
    return _imagenet_batch(handle, files, tuple(datasets.file_stamp(f) for f in files), i18n.language())


@st.cache_data(show_spinner=False, max_entries=200)
def _imagenet_batch(handle: str, files: tuple[str, ...], stamps: tuple, lang: str) -> list[models.ImageResult]:
    del stamps  # Only part of the key.
    return classifier(handle).classify_paths(list(files))


def thumbnail_uri(path: str, size: int = 72) -> str | None:
    """A small JPEG of the photo as a data URI, for a chart's tooltip; None if unreadable."""
    return _thumbnail_uri(path, size, datasets.file_stamp(path))


@st.cache_data(show_spinner=False, max_entries=5000)
def _thumbnail_uri(path: str, size: int, stamp: tuple) -> str | None:
    import base64
    import io
    small = _thumbnail(path, 200, stamp)
    if small is None:
        return None
    buffer = io.BytesIO()
    small.resize((size, size), Image.BILINEAR).save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def thumbnail(path: str, size: int = 200) -> Image.Image | None:
    """The image as the model sees it (whole, squeezed square), small, for the grid; None if unreadable."""
    return _thumbnail(path, size, datasets.file_stamp(path))


@st.cache_data(show_spinner=False, max_entries=2000)
def _thumbnail(path: str, size: int, stamp: tuple) -> Image.Image | None:
    del stamp  # Only part of the key.
    try:
        image = images.read_image(images.read_file(path), path)
    except HubDemoError:
        return None
    return image.resize((size, size), Image.BILINEAR)


def augmented_copies(path: str, size: int, seed: int, count: int = 5) -> tuple[np.ndarray, np.ndarray] | None:
    """One photo as the model sees it (``size`` square), and ``count`` copies as augmentation makes them in training;
    None if unreadable."""
    return _augmented_copies(path, size, seed, count, datasets.file_stamp(path))


@st.cache_data(show_spinner=False, max_entries=20)
def _augmented_copies(path: str, size: int, seed: int, count: int, stamp: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    del stamp  # Only part of the key.
    try:
        pixels = images.load_for_model(images.read_file(path), size, Path(path).name)
    except HubDemoError:
        return None
    return pixels, training.augmented_copies(pixels, count, seed)

# --- Heatmaps (hubdemo.explain) -----------------------------------------------------------

@st.cache_resource(show_spinner=False)
def cam_network(name: str) -> explain.CamNetwork:
    """A bundled network rebuilt for Grad-CAM, once per network and process (a few seconds)."""
    return explain.CamNetwork(name)


def cam_network_for(classifier: models.ImageClassifier) -> explain.CamNetwork:
    """The rebuilt network Grad-CAM reads to explain ``classifier``."""
    return cam_network(explain.gradcam_network(classifier))


@st.cache_data(show_spinner=False, max_entries=200)
def heatmap(model_uid: str, name: str, data: bytes, method: str, width: int,
            _classifier: models.ImageClassifier) -> tuple[np.ndarray, explain.Heatmap]:
    """Where the model looks in one photo: the photo at most ``width`` pixels wide under its heat (made that size
    here, once: st.image's own width= does not shrink in a narrower column), and the heatmap itself."""
    batch = images.load_for_model(data, _classifier.input_size, name)[None]
    (found,) = explain.explain(_classifier, batch, method=method,
                               network=cam_network_for(_classifier) if method == "gradcam" else None)
    picture = display_image(data)
    picture.thumbnail((width, 4 * width))
    return explain.overlay(np.asarray(picture), found.heat), found


def file_heatmaps(classifier: models.ImageClassifier, files, size: int = 200) -> list[np.ndarray | None]:
    """Grad-CAM overlays of image files (a grid batch, a gallery), square as the model sees them; None if unreadable."""
    files = tuple(str(f) for f in files)
    return _file_heatmaps(classifier.uid, files, tuple(datasets.file_stamp(f) for f in files), size, classifier)


@st.cache_data(show_spinner=False, max_entries=100)
def _file_heatmaps(model_uid: str, files: tuple[str, ...], stamps: tuple, size: int,
                   _classifier: models.ImageClassifier) -> list[np.ndarray | None]:
    del stamps  # Only part of the key.
    inputs = models.prepare_images([(f, images.read_file(f)) if datasets.file_stamp(f) != (0, 0) else (f, b"")
                                    for f in files], _classifier.input_size)
    readable = [i for i, x in enumerate(inputs) if isinstance(x, np.ndarray)]
    out: list[np.ndarray | None] = [None] * len(files)
    if readable:
        batch = np.stack([inputs[i] for i in readable])
        found = explain.explain(_classifier, batch, method="gradcam", network=cam_network_for(_classifier))
        for i, image, heat in zip(readable, batch, found):
            small = images.from_array((image * 255).round().astype(np.uint8), size)
            out[i] = explain.overlay(small, heat.heat)
    return out
