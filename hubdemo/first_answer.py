"""The sample photo's answer from each bundled model, kept on disk: the first page needs no TensorFlow.

The classifier page opens with the tutorial's photo already classified. On a
2-core laptop, importing TensorFlow and loading the model cost about 4 s of
CPU, which the page's own start shares; a teacher who launches the app and
opens it would wait for all of it. So the answer a bundled model gave for the
sample at the last launch is kept here, and the first page shows it while the
model loads behind it (``warmup.py``). It is the same model's own answer: the
record names the model build it came from (the SavedModel's time stamp), and a
rebuilt model is never answered for by an older record. Only the sample photo
and the bundled models are kept: one small file per model.
"""

from __future__ import annotations

import json
from pathlib import Path

from hubdemo import bundled, images, models, paths

FOLDER = "first-answer"


def _build_stamp(handle: str) -> int | None:
    """The bundled classifier's build (its saved_model.pb's time stamp), None for any other model or no build yet."""
    name = bundled.classifier_network(handle)
    if not name or not bundled.is_built(name):
        return None
    return (bundled.build_dir(name) / "classification" / "saved_model.pb").stat().st_mtime_ns


def _path(handle: str) -> Path:
    return paths.cache_dir() / FOLDER / f"{bundled.classifier_network(handle)}.json"


def remember(handle: str, name: str, data: bytes, result: models.ImageResult) -> None:
    """Keep ``result`` if it is a bundled model's answer for the sample photo; anything else is not kept."""
    stamp = _build_stamp(handle)
    if stamp is None or name != images.SAMPLE_NAME or data != images.sample_photo() or result.error:
        return
    record = {"build": stamp, "name": name, "seconds": result.seconds,
              "predictions": [[p.index, p.label, p.probability] for p in result.predictions]}
    try:
        _path(handle).parent.mkdir(parents=True, exist_ok=True)
        paths.write_atomically(_path(handle), lambda f: f.write(json.dumps(record).encode("utf-8")))
    except OSError:  # A full disk only costs the next launch its head start.
        pass


def recall(handle: str, k: int = 5) -> models.ImageResult | None:
    """The sample photo's answer from this very build of the model, or None (another model, rebuilt, never kept)."""
    stamp = _build_stamp(handle)
    if stamp is None:
        return None
    try:
        record = json.loads(_path(handle).read_text())
        if record["build"] != stamp:
            return None
        predictions = tuple(models.Prediction(int(i), str(label), float(p)) for i, label, p in record["predictions"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(predictions) < k:
        return None
    return models.ImageResult(record["name"], predictions[:k], seconds=float(record["seconds"]))
