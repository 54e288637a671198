"""The offline models: EfficientNet-Lite0, Lite1 and Lite2, each built once into the cache as two TF Hub SavedModels.

A handle ``bundled:efficientnet_lite1/classification`` (or ``/feature_vector``)
resolves to a local folder here, so a bundled model then loads through
``hub.KerasLayer`` exactly like a downloaded one. Lite0 is the default; the
others are built the first time someone picks them (about 15 seconds each).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from hubdemo import paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _
from hubdemo.lite import LITE0
from hubdemo.lite import VARIANTS as NETWORKS

SCHEME = "bundled:"
NAME = LITE0  # The default network.
NAMES = tuple(NETWORKS)
VARIANTS = ("classification", "feature_vector")
CLASSIFIER_HANDLE = f"{SCHEME}{NAME}/classification"
FEATURES_HANDLE = f"{SCHEME}{NAME}/feature_vector"
# Bump when the builder changes, so an old build in the cache is not reused.
BUILD_VERSION = 2

_build_lock = threading.Lock()


def is_bundled(handle: str) -> bool:
    return handle.startswith(SCHEME)


def handle(name: str, variant: str) -> str:
    """``bundled:efficientnet_lite2/feature_vector``."""
    return f"{SCHEME}{name}/{variant}"


def network(handle_: str) -> str:
    """The network a bundled handle names (``efficientnet_lite2``); HubDemoError for anything else."""
    return _parse(handle_)[0]


def features_network(handle_: str) -> str | None:
    """The network of a bundled feature-vector handle (``efficientnet_lite1``), None for any other handle.

    What decides whether the app can rebuild a model's backbone itself: for
    Grad-CAM, which looks inside it, and for training it from scratch.
    """
    return _known(handle_, "feature_vector")


def classifier_network(handle_: str) -> str | None:
    """The network of a bundled classification handle, None for any other handle."""
    return _known(handle_, "classification")


def _known(handle_: str, variant: str) -> str | None:
    name, kind = _split(handle_)
    return name if name in NAMES and kind == variant else None


def _split(handle_: str) -> tuple[str, str]:
    """``bundled:<network>/<variant>`` as ``(network, variant)``; two empty strings for any other handle."""
    name, _sep, variant = handle_[len(SCHEME):].partition("/") if is_bundled(handle_) else ("", "", "")
    return name, variant


def _parse(handle_: str) -> tuple[str, str]:
    name, variant = _split(handle_)
    if name not in NAMES or variant not in VARIANTS:
        choices = ", ".join(handle(n, v) for n in NAMES for v in VARIANTS)
        raise HubDemoError(_("Unknown bundled model '{handle}'. Choose one of: {choices}.").format(
            handle=handle_, choices=choices))
    return name, variant


def build_dir(name: str = NAME) -> Path:
    return paths.cache_dir() / f"{name}-v{BUILD_VERSION}"


def is_built(name: str = NAME) -> bool:
    return all((build_dir(name) / v / "saved_model.pb").is_file() for v in VARIANTS)


def resolve(handle_: str) -> str:
    """Turn ``bundled:<network>/<variant>`` into its local SavedModel folder, building it if needed."""
    name, variant = _parse(handle_)
    ensure_built(name)
    return str(build_dir(name) / variant)


def ensure_built(name: str = NAME) -> Path:
    """Build the network's two SavedModels into the cache once; a crash mid-build leaves nothing that later loads.

    The build goes to a temporary folder beside the final one and is renamed
    into place only when complete (see ``paths.atomic_folder``).
    """
    with _build_lock:
        final = build_dir(name)
        if is_built(name):
            return final
        if final.exists():  # Incomplete: left by a version of this code without atomic builds.
            shutil.rmtree(final)
        try:
            with paths.atomic_folder(final) as tmp:
                _build_into(tmp, name)
        except Exception as err:  # An OSError, or TensorFlow's own error when saving: a full disk is either.
            problem = paths.write_problem(err)
            if problem is None:
                raise
            raise HubDemoError(_("{model} could not be built into {folder}: {problem}. It takes a few tens of "
                                 "MB, once. Free some space, or set HUBDEMO_CACHE_DIR to a folder on a disk "
                                 "with room, then try again.").format(
                                         model=NETWORKS[name].title, folder=final.parent, problem=problem)) from err
        return final


def _build_into(folder: Path, name: str) -> None:
    from hubdemo.hub_format import save_hub_module
    from hubdemo.lite import build_efficientnet_lite

    # The classifier is for inference: BatchNorm folded into the convolutions (about 1.5x faster on
    # a CPU, logits within 2e-5). The feature vector keeps its BatchNorm layers for fine-tuning.
    size = NETWORKS[name].size
    classifier = build_efficientnet_lite(name, fold_batch_norm=True)
    features = build_efficientnet_lite(name, include_top=False)
    save_hub_module(classifier, folder / "classification", image_size=size)
    save_hub_module(features, folder / "feature_vector", image_size=size)
