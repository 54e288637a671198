"""The offline default model: EfficientNet-Lite0 built once into the cache as two TF Hub SavedModels.

A handle ``bundled:efficientnet_lite0/classification`` (or ``/feature_vector``)
resolves to a local folder here, so the bundled model then loads through
``hub.KerasLayer`` exactly like a downloaded one.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from hubdemo import paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _
from hubdemo.lite0 import DEFAULT_SIZE

SCHEME = "bundled:"
NAME = "efficientnet_lite0"
VARIANTS = ("classification", "feature_vector")
CLASSIFIER_HANDLE = f"{SCHEME}{NAME}/classification"
FEATURES_HANDLE = f"{SCHEME}{NAME}/feature_vector"
# Bump when the builder changes, so an old build in the cache is not reused.
BUILD_VERSION = 2

_build_lock = threading.Lock()


def is_bundled(handle: str) -> bool:
    return handle.startswith(SCHEME)


def build_dir() -> Path:
    return paths.cache_dir() / f"{NAME}-v{BUILD_VERSION}"


def is_built() -> bool:
    return all((build_dir() / v / "saved_model.pb").is_file() for v in VARIANTS)


def resolve(handle: str) -> str:
    """Turn ``bundled:efficientnet_lite0/<variant>`` into its local SavedModel folder, building it if needed."""
    name, _sep, variant = handle[len(SCHEME):].partition("/")
    if name != NAME or variant not in VARIANTS:
        choices = ", ".join(f"{SCHEME}{NAME}/{v}" for v in VARIANTS)
        raise HubDemoError(_("Unknown bundled model '{handle}'. Choose one of: {choices}.").format(
                handle=handle, choices=choices))
    ensure_built()
    return str(build_dir() / variant)


def ensure_built() -> Path:
    """Build both SavedModels into the cache once; a crash mid-build leaves nothing that later loads.

    The build goes to a temporary folder beside the final one and is renamed
    into place only when complete (see ``paths.atomic_folder``).
    """
    with _build_lock:
        final = build_dir()
        if is_built():
            return final
        if final.exists():  # Incomplete: left by a version of this code without atomic builds.
            shutil.rmtree(final)
        with paths.atomic_folder(final) as tmp:
            _build_into(tmp)
        return final


def _build_into(folder: Path) -> None:
    from hubdemo.hub_format import save_hub_module
    from hubdemo.lite0 import build_efficientnet_lite0

    # The classifier is for inference: BatchNorm folded into the convolutions (about 1.5x faster on
    # a CPU, logits within 2e-5). The feature vector keeps its BatchNorm layers for fine-tuning.
    classifier = build_efficientnet_lite0(fold_batch_norm=True)
    features = build_efficientnet_lite0(include_top=False)
    save_hub_module(classifier, folder / "classification", image_size=DEFAULT_SIZE)
    save_hub_module(features, folder / "feature_vector", image_size=DEFAULT_SIZE)
