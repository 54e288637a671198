"""Export a trained model as a SavedModel with labels.txt, prove it reloads identically, and convert to TFLite.

The export is ``model.save(folder)`` (TensorFlow's SavedModel): it carries the
hub layer's weights, so it reloads with nothing else present. The ``.keras``
and ``.h5`` formats store only the hub handle and break once that folder is
gone. Reloading and converting go through ``tf.saved_model`` and
``TFLiteConverter.from_saved_model``, which keep Keras 3 out of the process.
"""

from __future__ import annotations

import io
import os
import re
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

from hubdemo import paths
from hubdemo.errors import HubDemoError

LABELS_FILE = "labels.txt"


def exports_dir() -> Path:
    """``$HUBDEMO_EXPORTS_DIR``, else ``exports/`` in the folder the app was started from."""
    return Path(os.environ.get("HUBDEMO_EXPORTS_DIR") or Path.cwd() / "exports").expanduser()


def export_name(dataset_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", dataset_name.lower()).strip("-") or "dataset"
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"


def save(model, class_names, folder: Path) -> Path:
    """Write ``model`` as a SavedModel plus ``labels.txt`` (one class per line, in output order), atomically."""
    if folder.exists():
        raise HubDemoError(f"{folder} already exists; choose another folder for the export.")
    with paths.atomic_folder(folder) as tmp:
        model.save(str(tmp))
        (tmp / LABELS_FILE).write_text("\n".join(class_names) + "\n", encoding="utf-8")
    return folder


def load(folder: str | Path):
    """Reload an export: ``(callable model, class names)``; the model maps images in [0, 1] to probabilities."""
    from hubdemo.tf import tf
    folder = Path(folder).expanduser()
    if not (folder / "saved_model.pb").is_file():
        raise HubDemoError(f"'{folder}' is not an exported model (no saved_model.pb in it).")
    labels_path = folder / LABELS_FILE
    if not labels_path.is_file():
        raise HubDemoError(f"'{folder}' has no {LABELS_FILE}, so its outputs cannot be named.")
    try:
        restored = tf.saved_model.load(str(folder))
    except Exception as err:  # TF raises many types for a damaged SavedModel.
        raise HubDemoError(f"'{folder}' could not be loaded: {err}") from err
    names = tuple(line for line in labels_path.read_text(encoding="utf-8").splitlines() if line)
    return restored, names


def reload_max_abs_diff(folder: Path, images: np.ndarray, expected: np.ndarray) -> float:
    """Largest difference between the reloaded export's predictions and ``expected`` (the tutorial prints 0.0)."""
    restored, _ = load(folder)
    reloaded = restored(images, training=False).numpy()
    return float(np.max(np.abs(reloaded - expected)))


def zip_bytes(folder: Path) -> bytes:
    """The export folder as a .zip, for download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()


def to_tflite(folder: Path, *, quantize: bool = False) -> bytes:
    """Convert the export to TFLite: float, or with dynamic-range quantised weights (about 4× smaller)."""
    from hubdemo.tf import tf
    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as err:  # The converter raises ConverterError and others.
        raise HubDemoError(f"TFLite conversion failed: {err}") from err


def tflite_predictions(model_bytes: bytes, images: np.ndarray) -> np.ndarray:
    """Run a TFLite model on a batch, one image at a time (as on a phone)."""
    from hubdemo.tf import tf
    with warnings.catch_warnings():
        # tf.lite.Interpreter still works in TF 2.21; its successor needs another package.
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    rows = []
    for image in images:
        interpreter.set_tensor(inp["index"], image[None].astype(np.float32))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(out["index"])[0])
    return np.stack(rows)


def usage_snippet(folder: Path, image_size: int) -> str:
    """The few lines of Python that load the export and classify a photo."""
    return f'''import numpy as np, tensorflow as tf
from PIL import Image

model = tf.saved_model.load("{folder}")
labels = open("{folder / LABELS_FILE}").read().splitlines()

image = Image.open("photo.jpg").convert("RGB").resize(({image_size}, {image_size}))
batch = np.asarray(image, dtype="float32")[np.newaxis] / 255.0
probabilities = model(batch, training=False).numpy()[0]
print(labels[probabilities.argmax()], probabilities.max())'''
