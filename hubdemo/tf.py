"""The one import point for TensorFlow, tf_keras and tensorflow_hub.

Importing them through here guarantees ``TF_USE_LEGACY_KERAS=1`` is set first
(see ``hubdemo/__init__.py``), keeps Keras 3 out of the process, and splits the
CPU into logical devices when ``HUBDEMO_CPU_DEVICES`` asks (:mod:`hubdemo.distribute`).
"""

import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

from hubdemo.distribute import split_cpu

split_cpu(tf)  # HUBDEMO_CPU_DEVICES=N: N logical CPUs, which must be set before TensorFlow first runs anything.

__all__ = ["hub", "tf", "tf_keras"]
