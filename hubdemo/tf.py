"""The one import point for TensorFlow, tf_keras and tensorflow_hub.

Importing them through here guarantees ``TF_USE_LEGACY_KERAS=1`` is set first
(see ``hubdemo/__init__.py``) and keeps Keras 3 out of the process.
"""

import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

__all__ = ["hub", "tf", "tf_keras"]
