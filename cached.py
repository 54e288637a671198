"""The app's in-process caches: one model per handle per process, results per file content.

Models are shared singletons (``st.cache_resource``); results are copied per
session (``st.cache_data``). The disk cache below them is TF Hub's and ours
(see ``hubdemo.paths``). Nothing here fits or mutates a cached model.
"""

from __future__ import annotations

import streamlit as st
from PIL import Image

from hubdemo import images, models
from hubdemo.errors import HubDemoError

DISPLAY_SIZE = 640


@st.cache_resource(show_spinner=False, max_entries=4)
def classifier(handle: str) -> models.Classifier:
    return models.Classifier(handle)


def classifier_ui(handle: str) -> models.Classifier | None:
    """The cached classifier, with a progress message while it builds or loads; None after showing an error."""
    message = ("Building EfficientNet-Lite0 from its bundled weights. This happens once, on first "
               "launch, and takes about 15 seconds…" if models.needs_build(handle)
               else f"Loading the model {handle}…")
    try:
        with st.spinner(message, show_time=True):
            return classifier(handle)
    except HubDemoError as err:
        st.error(str(err), icon="⚠️")
        return None


@st.cache_data(show_spinner=False, max_entries=500)
def classify(handle: str, name: str, data: bytes, k: int = 5) -> models.ImageResult:
    (result,) = classifier(handle).classify_files([(name, data)], k=k)
    return result


@st.cache_data(show_spinner=False, max_entries=500)
def display_image(data: bytes) -> Image.Image:
    """The upright RGB image, at most DISPLAY_SIZE pixels wide, for showing (the model sees the original)."""
    image = images.read_image(data)
    image.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE))
    return image
