"""The one import point for TensorFlow, tf_keras and tensorflow_hub.

Importing them through here guarantees ``TF_USE_LEGACY_KERAS=1`` is set first
(see ``hubdemo/__init__.py``), keeps Keras 3 out of the process, splits the
CPU into logical devices when ``HUBDEMO_CPU_DEVICES`` asks (:mod:`hubdemo.distribute`),
and keeps TensorFlow's start-up notes out of the terminal (:func:`_without_startup_notes`).
"""

import os
import re
import sys
import tempfile
from contextlib import contextmanager

# What TensorFlow 2.21's C++ side prints as it starts, whatever TF_CPP_MIN_LOG_LEVEL says (its logging is not set
# up yet): a note about that, oneDNN's, and on a computer without a GPU driver "Could not find cuda drivers" and
# then "E0000 … failed call to cuInit: … CUDA error". A teacher starting a class reads those as failures.
_NOTES = re.compile(rb"WARNING: All log messages before absl::InitializeLog\(\)|[IW]\d{4} [^\]]*port\.cc:\d+\] oneDNN ")
_NO_DRIVER = re.compile(rb"[IW]\d{4} [^\]]*cudart_stub\.cc:\d+\] Could not find cuda drivers")
_NO_DRIVER_ERROR = re.compile(rb"E\d{4} [^\]]*cuda_platform\.cc:\d+\] failed call to cuInit")


def startup_lines_kept(lines: list[bytes]) -> list[bytes]:
    """The lines of TensorFlow's start-up worth showing: all but its notes; the CUDA error only where a driver
    was found (without one, it says no more than that there is no GPU, which the CPU build never uses)."""
    no_driver = any(_NO_DRIVER.match(line) for line in lines)
    return [line for line in lines if not (_NOTES.match(line) or _NO_DRIVER.match(line)
                                           or (no_driver and _NO_DRIVER_ERROR.match(line)))]


@contextmanager
def _without_startup_notes():
    """Hold what the process writes to stderr (file descriptor 2, where C++ writes) while TensorFlow starts, then
    write it out again without the start-up notes: nothing else is lost, only delayed by those seconds."""
    try:
        sys.stderr.flush()
        caught = tempfile.TemporaryFile()  # No name on disk, nothing left behind.
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # No stderr, or no room for the file: keep the notes.
        yield
        return
    with caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            rest = b"".join(startup_lines_kept(caught.read().splitlines(keepends=True)))
            while rest:
                rest = rest[os.write(2, rest):]


with _without_startup_notes():
    import tensorflow as tf
    import tensorflow_hub as hub
    import tf_keras

    from hubdemo.distribute import split_cpu

    split_cpu(tf)  # HUBDEMO_CPU_DEVICES=N: N logical CPUs, which must be set before TensorFlow first runs anything.
    tf.config.list_physical_devices()  # Where TensorFlow looks for a GPU, and says if there is no driver.

__all__ = ["hub", "tf", "tf_keras"]
