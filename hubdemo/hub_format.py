"""Save a tf_keras model as a TF Hub-format (reusable) SavedModel.

The format, as ``hub.KerasLayer`` expects it: a restored object with a traced
``__call__(images, training)`` plus ``variables``, ``trainable_variables`` and
``regularization_losses``. Both values of ``training`` are traced, so the model
can be used frozen or fine-tuned (BatchNorm then uses batch statistics).
"""

from __future__ import annotations

from pathlib import Path


def save_hub_module(model, path: Path, *, image_size: int) -> None:
    """Write ``model`` to ``path`` as a reusable SavedModel taking (batch, size, size, 3) floats."""
    from hubdemo.tf import tf

    @tf.function
    def call(images, training=False):
        return model(images, training=training)

    spec = tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")
    for training in (False, True):
        call.get_concrete_function(spec, training)

    module = tf.train.Checkpoint()
    module.__call__ = call
    module.variables = list(model.variables)
    module.trainable_variables = list(model.trainable_variables)
    module.regularization_losses = []
    tf.saved_model.save(module, str(path))
