"""TensorFlow Lite: convert an exported SavedModel (float, or with 8-bit weights) and run it as a phone would.

Conversion goes through ``TFLiteConverter.from_saved_model``, which keeps
Keras 3 out of the process (``from_keras_model`` would import it).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _

FLOAT, QUANTISED = "float32", N_("dynamic-range quantised")


def convert(folder: Path, *, quantize: bool = False) -> bytes:
    """A SavedModel folder as TFLite: float, or with dynamic-range quantised weights (about 4× smaller)."""
    from hubdemo.tf import tf
    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    try:
        return converter.convert()
    except Exception as err:  # The converter raises ConverterError and others.
        raise HubDemoError(_("TFLite conversion failed: {err}").format(err=err)) from err


def predictions(model_bytes: bytes, images: np.ndarray) -> np.ndarray:
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
