"""Export a trained run: SavedModel, labels.txt, TFLite (float and quantised) and metadata.json, each checked.

The SavedModel is ``model.save(folder)`` (TensorFlow's format): it carries the
hub layer's weights, so it reloads with nothing else present. The ``.keras``
and ``.h5`` formats store only the hub handle and break once that folder is
gone. :func:`export_run` is the one path from a trained run to a checked export,
shared by the Train page and ``python -m hubdemo train``; reopening an export
is :mod:`hubdemo.saved`.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from hubdemo import __version__, paths, pipeline, tflite
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _

LABELS_FILE = "labels.txt"
METADATA_FILE = "metadata.json"
TFLITE_FILES = {tflite.FLOAT: "model.tflite", tflite.QUANTISED: "model_quant.tflite"}
FORMAT = "hubdemo-export"
CHECK_IMAGES = 32  # Validation photos the reloaded and converted models are compared on.
STEPS = (N_("Saving the SavedModel"), N_("Reloading it and comparing"), N_("Converting to TFLite (float)"),
         N_("Converting to TFLite (8-bit weights)"))


def exports_dir() -> Path:
    """``$HUBDEMO_EXPORTS_DIR``, else ``exports/`` in the folder the app was started from."""
    return Path(os.environ.get("HUBDEMO_EXPORTS_DIR") or Path.cwd() / "exports").expanduser()


def export_name(run_label: str) -> str:
    """A folder name that sorts by time and says what it holds: ``20261127-134000-flowers-run-2``."""
    slug = re.sub(r"[^a-z0-9]+", "-", run_label.lower()).strip("-") or "model"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


@dataclass(frozen=True)
class TFLiteCheck:
    """One converted model: its file, size, and how many check photos it classifies as the Keras model does."""

    kind: str
    file: str
    size_bytes: int
    agree: int
    checked: int


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_run` wrote and proved."""

    folder: Path
    reload_max_abs_diff: float  # The tutorial prints 0.0: the reloaded export predicts exactly as before.
    checked: int  # Validation photos used for the checks.
    tflite: tuple[TFLiteCheck, ...]
    metadata: dict
    seconds: float


def export_run(run, folder: Path, *, progress: Callable[[str, int, int], None] | None = None) -> ExportReport:
    """Write ``run``'s model as a complete export in ``folder``, checking every file against the model.

    Writes the SavedModel and ``labels.txt``, reloads it and compares its
    predictions on up to 32 validation photos, converts it to TFLite twice and
    runs both on the same photos, then writes ``metadata.json`` with the run's
    settings and the checks' results. All of it lands in ``folder`` at once, or
    not at all.

    Args:
        run: a finished :class:`hubdemo.runs.Run` whose model is still in memory.
        progress: called as ``progress(step, done, total)`` before each step.

    Raises:
        HubDemoError: the run has no model, ``folder`` exists, or a step failed.
    """
    trained = run.model
    if trained is None or run.evaluation is None:
        raise HubDemoError(_("Run {number} has no model in memory any more (only the newest few are kept). "
                             "Train it again to export it.").format(number=run.number))
    folder = Path(folder).expanduser()
    if folder.exists():
        raise HubDemoError(_("{folder} already exists; choose another folder for the export.").format(folder=folder))
    started = time.monotonic()
    say = progress or (lambda step, done, total: None)
    images = _check_images(run.evaluation.files, trained.input_size)
    expected = trained.probabilities(images)
    from hubdemo.tf import tf
    try:
        diff, checks, metadata = _write_checked(run, folder, images, expected, say)
    except (OSError, tf.errors.OpError) as err:  # TensorFlow reports a full disk as its own error.
        reason = paths.write_problem(err) or getattr(err, "strerror", None) or getattr(err, "message", err)
        raise HubDemoError(_("The export could not be written to {parent}: "
                             "{reason}. Free some "
                             "space or choose another folder (HUBDEMO_EXPORTS_DIR); nothing was left half-written.").format(
                                 parent=folder.parent, reason=reason)) from err
    say(N_("Done"), len(STEPS), len(STEPS))
    run.export_folder = str(folder)  # Kept with the run's record: after a restart its model can come back from here.
    return ExportReport(folder, diff, len(images), tuple(checks), metadata, time.monotonic() - started)


def _write_checked(run, folder: Path, images: np.ndarray, expected: np.ndarray, say):
    """Every file of the export, each checked, written to a temporary folder renamed to ``folder`` at the end."""
    trained = run.model
    with paths.atomic_folder(folder) as tmp:
        say(STEPS[0], 0, len(STEPS))
        save(trained.model, trained.labels, tmp)
        say(STEPS[1], 1, len(STEPS))
        diff = reload_max_abs_diff(tmp, images, expected)
        checks = []
        for number, (kind, name) in enumerate(TFLITE_FILES.items(), start=2):
            say(STEPS[number], number, len(STEPS))
            model_bytes = tflite.convert(tmp, quantize=kind == tflite.QUANTISED)
            (tmp / name).write_bytes(model_bytes)
            agree = tflite.predictions(model_bytes, images).argmax(1) == expected.argmax(1)
            checks.append(TFLiteCheck(kind, name, len(model_bytes), int(agree.sum()), len(agree)))
        metadata = _metadata(run, diff, checks)
        (tmp / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return diff, checks, metadata


def _check_images(files, size: int) -> np.ndarray:
    batches = pipeline.image_batches(list(files[:CHECK_IMAGES]), size, batch_size=CHECK_IMAGES)
    for images, _labels, _indices in batches:
        return images.numpy()
    raise HubDemoError(_("None of the validation photos can be read any more, so the export cannot be checked."))


def _metadata(run, diff: float, checks: list[TFLiteCheck]) -> dict:
    trained = run.model
    return {
        "format": FORMAT,
        "dataset": run.dataset_name,
        "dataset_fingerprint": run.dataset_key,  # Which photos: the grid judges it on the ones it never saw.
        "run": run.label,
        "class_names": list(trained.labels),
        "image_size": trained.input_size,
        "hub_handle": trained.feature_handle,
        "settings": run.config.as_dict(),
        "val_accuracy": run.evaluation.accuracy,
        "validation_photos": len(run.evaluation.files),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hubdemo_version": __version__,
        "input": "float32 RGB, shape (batch, size, size, 3), values in [0, 1]",
        "checks": {"reload_max_abs_diff": diff,
                   "tflite": {c.file: {"agree": c.agree, "of": c.checked} for c in checks}},
    }


def save(model, class_names, folder: Path) -> Path:
    """Write ``model`` as a SavedModel plus ``labels.txt`` (one class per line, in output order)."""
    model.save(str(folder))
    (folder / LABELS_FILE).write_text("\n".join(class_names) + "\n", encoding="utf-8")
    return folder


def reload_max_abs_diff(folder: Path, images: np.ndarray, expected: np.ndarray) -> float:
    """Largest difference between the reloaded SavedModel's predictions and ``expected`` (the tutorial prints 0.0)."""
    from hubdemo.tf import tf
    restored = tf.saved_model.load(str(folder))
    reloaded = restored(images, training=False).numpy()
    return float(np.max(np.abs(reloaded - expected)))


def zip_bytes(folder: Path) -> bytes:
    """The whole export folder as a .zip (inside it, one folder named like the export), for download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()


def tflite_zip_bytes(folder: Path, tflite_file: str) -> bytes:
    """One ``.tflite`` with ``labels.txt`` beside it, as a phone app needs them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # TFLite weights barely compress.
        archive.write(folder / tflite_file, tflite_file)
        archive.write(folder / LABELS_FILE, LABELS_FILE)
    return buffer.getvalue()
