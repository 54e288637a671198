"""Transfer learning as in the tutorial: a frozen TF Hub feature extractor, a new Dense head, live statistics.

    model = tf_keras.Sequential([hub.KerasLayer(feature_vector, trainable=False),
                                 tf_keras.layers.Dense(num_classes, activation="softmax")])

Fast path: with the backbone frozen and no augmentation, each image's features
are computed once (:mod:`hubdemo.features`) and the head trains on them; the
exported model is the same Sequential either way. Training reports through a
:class:`hubdemo.runs.Run` that a page can poll from another thread.
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from hubdemo import bundled, datasets, evaluation, i18n, lite, models, pipeline
from hubdemo.errors import HubDemoError
from hubdemo.features import MEMORY_VECTORS, FeatureExtractor
from hubdemo.i18n import _
from hubdemo.runs import Run, TrainConfig
from hubdemo.tf import tf, tf_keras


class LiveStats(tf_keras.callbacks.Callback):
    """The tutorial's ``CollectBatchStats``: every batch's loss and accuracy, into a :class:`Run`.

    Also the Stop button's hook: Keras checks ``stop_training`` after every
    batch, so training ends after the current one and keeps its weights.
    """

    def __init__(self, run: Run, steps_per_epoch: int):
        super().__init__()
        self.run, self.steps_per_epoch = run, steps_per_epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.run.begin_epoch(epoch, self.steps_per_epoch)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.run.record_batch(batch, float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan)))
        if self.run.stop_event.is_set():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.run.record_epoch(logs or {})


# --- The model --------------------------------------------------------------------------------

class TrainedModel(models.TransferClassifier):
    """A model trained in this process: the exported Sequential, and the head alone for cached features.

    Lives in one user's session (in its :class:`~hubdemo.runs.Run`), never in a
    shared cache. With a frozen backbone, :meth:`file_probabilities` sends the
    extractor's cached features through the head instead of running the whole
    network again.
    """

    def __init__(self, model, class_names, image_size: int, *, feature_handle: str, head=None,
                 extractor: FeatureExtractor | None = None):
        super().__init__(model, class_names, image_size)
        self.feature_handle = feature_handle
        self.head = head  # The head alone, on cached features (frozen backbone only).
        self.extractor = extractor if head is not None else None

    @property
    def image_size(self) -> int:
        return self.input_size

    def learned_weights(self) -> list[np.ndarray]:
        """What training changed, as arrays (what a worker process sends back, what a restart gets back):
        the head's, or the whole model's. :func:`rebuild` makes the model again from them."""
        return (self.head if self.head is not None else self.model).get_weights()

    def file_probabilities(self, files) -> tuple[np.ndarray, dict[int, str]]:
        if self.extractor is not None:  # In chunks: a dataset of any size in bounded memory.
            files = list(files)
            probs, skipped = [np.zeros((0, len(self.labels)), np.float32)], {}
            for start in range(0, len(files), STREAM_BATCH):
                feats, missed = self.extractor.extract(files[start:start + STREAM_BATCH])
                probs.append(self.head(feats, training=False).numpy())
                skipped.update({start + i: reason for i, reason in missed.items()})
            return np.concatenate(probs), skipped
        return super().file_probabilities(files)


def build_head(feature_dim: int, num_classes: int, dropout: float, seed: int = 0):
    """The new classification layer (plus optional dropout) on top of the features.

    Its random parts take ``seed`` themselves, so its starting weights do not
    depend on what other threads of the server drew from TensorFlow's global
    random state meanwhile: same seed, same model, even with a class using the app.
    """
    layers = [tf_keras.Input((feature_dim,), name="features")]
    if dropout:
        layers.append(tf_keras.layers.Dropout(dropout, seed=seed, name="dropout"))
    layers.append(tf_keras.layers.Dense(num_classes, activation="softmax", name="classifier",
                                        kernel_initializer=tf_keras.initializers.GlorotUniform(seed=seed)))
    return tf_keras.Sequential(layers, name="head")


def assemble(feature_layer, head, image_size: int):
    """The tutorial's Sequential: the hub layer (or a network built here), then the head's layers (sharing weights)."""
    return tf_keras.Sequential([tf_keras.Input((image_size, image_size, 3), name="images"), feature_layer,
                                *head.layers], name="transfer_model")


def _augmenter(seed: int):
    """Data augmentation as training applies it to each batch: a mirror image half the time, a turn of up to
    36° either way (a tenth of a full turn), a zoom of up to 10% in or out."""
    augment = tf_keras.Sequential([
        tf_keras.layers.RandomFlip("horizontal", seed=seed),
        tf_keras.layers.RandomRotation(0.1, seed=seed),
        tf_keras.layers.RandomZoom(0.1, seed=seed),
    ], name="augmentation")
    return lambda images: augment(images, training=True)


def augmented_copies(pixels: np.ndarray, count: int = 5, seed: int = 0) -> np.ndarray:
    """``count`` copies of one model-ready photo (H×W×3, floats in [0, 1]) as augmentation makes them in training.

    What the toggle does, shown: every epoch each training photo comes out a
    little different, so the new layer learns the flower rather than the exact
    pixels of a few hundred photos. The same augmenter as :func:`train`'s, so
    the copies are the kind the model will see; the same seed, the same copies.
    """
    batch = np.repeat(np.asarray(pixels, np.float32)[None], count, axis=0)
    return np.clip(_augmenter(seed)(batch).numpy(), 0.0, 1.0)


# Training the whole network costs about this per photo and epoch on a 2-core laptop CPU (measured: 600
# flower photos, batch 32: 19-24 s an epoch); a head on cached features costs next to nothing.
SCRATCH_SECONDS_PER_PHOTO = 0.035


def whole_network_seconds(photos: int, epochs: int, network: str = lite.LITE0) -> float:
    """About how long training the whole of a bundled network (from scratch, or fine-tuning) takes on a CPU."""
    return photos * epochs * SCRATCH_SECONDS_PER_PHOTO * lite.variant(network).cost


def train(dataset: datasets.Dataset, run: Run, extractor: FeatureExtractor | None = None,
          strategy=None) -> TrainedModel | None:
    """Train ``run``'s model on ``dataset`` with its settings: a new head, fine-tuning, or from scratch.

    Progress goes to ``run``. With a ``tf.distribute`` strategy (:mod:`hubdemo.distribute`), the model's
    variables are made in its scope and each batch is split between its replicas.

    Returns:
        The trained model (also kept as ``run.model``, with ``run.evaluation``
        and ``run.seconds``), or None if stopped before the first step (while
        features were being extracted).

    Raises:
        HubDemoError: bad settings, an unusable model, or every image unreadable.
    """
    config = run.config
    config.check()
    if config.from_scratch and not bundled.features_network(run.feature_handle):
        raise HubDemoError(_("Training from scratch rebuilds the network with random weights, so it needs one of "
                             "the bundled EfficientNet-Lite networks, whose layers the app knows. Pick one as the "
                             "feature extractor."))
    started = time.monotonic()
    split = datasets.split(dataset, config.validation_split, config.seed)
    tf_keras.utils.set_random_seed(config.seed)
    if config.uses_cached_features:
        done = _train_head_on_features(dataset, split, run, extractor, strategy)
        if done is None:
            return None
    else:
        done = _train_on_images(dataset, split, run, strategy)
    trained, val_idx, val_probs = done
    if strategy is not None:
        # Made again outside the strategy from its weights: one copy of each variable (a replica's batch-norm
        # statistics are averaged), so the app, the checks and the export all use the same model.
        trained = rebuild(run, dataset.class_names, trained.learned_weights(), trained.extractor)
        val_probs = trained.file_probabilities([dataset.files[i] for i in val_idx])[0]
    _set_cam_weights(trained, run)
    labels = np.asarray(dataset.labels, dtype=np.int32)
    run.model = trained
    run.evaluation = evaluation.evaluate(val_probs, labels[val_idx], dataset.class_names,
                                         [dataset.files[i] for i in val_idx])
    run.seconds = time.monotonic() - started
    stopped = run.stop_event.is_set()
    run.set_status("stopped" if stopped else "done",
                   _("Stopped early; the model keeps what it learned so far.") if stopped else "")
    return trained


def _scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def _train_head_on_features(dataset, split, run: Run, extractor: FeatureExtractor | None, strategy=None):
    """The fast path: each photo's features once (cached), then only the head trains on them.

    Up to :data:`STREAM_ABOVE` photos the features are held in memory; beyond, they are cached on disk and
    read back a batch at a time, so a dataset of any size trains in bounded memory.
    """
    config, handle = run.config, run.feature_handle
    labels = np.asarray(dataset.labels, dtype=np.int32)
    extractor = extractor if extractor is not None and extractor.handle == handle else FeatureExtractor(handle)
    run.set_status("extracting", _("Computing each image's features once…"))
    files = list(dataset.files)
    streamed = len(files) > STREAM_ABOVE
    if streamed:
        keys, skipped = extractor.cache(files, progress=run.set_extracted, should_stop=run.stop_event.is_set)
        source = _FeatureBatches(extractor, files, keys, labels)
    else:
        feats, skipped = extractor.extract(files, progress=run.set_extracted, should_stop=run.stop_event.is_set)
    if run.stop_event.is_set():
        run.set_status("stopped", _("Stopped before training began."))
        return None
    train_idx = np.array([i for i in split.train if i not in skipped], dtype=int)
    val_idx = np.array([i for i in split.validation if i not in skipped], dtype=int)
    _check_left(train_idx, val_idx, skipped)
    # Seeded just before the head is made: loading a model can draw random numbers too, and then the result
    # would depend on whether the feature extractor was loaded already (the notebook's code does the same).
    tf_keras.utils.set_random_seed(config.seed)
    with _scope(strategy):
        head = build_head(extractor.dim, len(dataset.class_names), config.dropout, config.seed)
        head.compile(tf_keras.optimizers.Adam(config.learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    run.set_status("training")
    if streamed:
        train_ds = source.dataset(train_idx, config.batch_size, seed=config.seed)
        validation = source.dataset(val_idx, STREAM_BATCH)
    else:
        # Shuffled by a seeded dataset, not fit(shuffle=True): its order then depends on this run's seed alone.
        train_ds = (tf.data.Dataset.from_tensor_slices((feats[train_idx], labels[train_idx]))
                    .shuffle(len(train_idx), seed=config.seed, reshuffle_each_iteration=True)
                    .batch(config.batch_size))
        validation = (feats[val_idx], labels[val_idx])
    head.fit(train_ds, epochs=config.epochs, validation_data=validation, verbose=0,
             callbacks=[LiveStats(run, -(-len(train_idx) // config.batch_size))])
    val_probs = (np.concatenate([head(batch, training=False).numpy() for batch, _labels in validation])
                 if streamed else head(feats[val_idx], training=False).numpy())
    return _on_extractor(head, extractor, dataset.class_names), val_idx, val_probs


# Beyond this many photos the head trains on features read back from the disk cache a batch at a time.
STREAM_ABOVE = MEMORY_VECTORS
STREAM_BATCH = 1024  # Photos' features read at once when streaming (5 MB), for validation and evaluation.


class _FeatureBatches:
    """A dataset's cached features as ``tf.data`` batches, read a batch at a time.

    From the dataset's features packed into one file mapped into memory
    (:meth:`FeatureExtractor.packed`), or where that cannot be written, from
    the cache itself.
    """

    def __init__(self, extractor: FeatureExtractor, files, keys, labels):
        self.extractor, self.files, self.keys, self.labels = extractor, files, keys, labels
        self.rows = extractor.packed(files, keys)

    def _features(self, chunk: np.ndarray) -> np.ndarray:
        if self.rows is not None:
            return np.asarray(self.rows[chunk])
        return self.extractor.gather([self.files[i] for i in chunk], [self.keys[i] for i in chunk])

    def dataset(self, indices: np.ndarray, batch_size: int, *, seed: int | None = None):
        """``(features, labels)`` batches of ``indices``; with a seed, in a new seeded order at each epoch."""
        rng = np.random.default_rng(seed) if seed is not None else None

        def batches():
            order = rng.permutation(indices) if rng is not None else indices
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                yield self._features(chunk), self.labels[chunk]
        return tf.data.Dataset.from_generator(batches, output_signature=(
            tf.TensorSpec([None, self.extractor.dim], tf.float32), tf.TensorSpec([None], tf.int32))).prefetch(2)


def _on_extractor(head, extractor: FeatureExtractor, class_names) -> TrainedModel:
    """The trained head on the extractor's frozen module (shared, not loaded again: nothing trains it)."""
    feature_layer, size = models.keras_layer(extractor.layer.resolved_object, trainable=False)
    return TrainedModel(assemble(feature_layer, head, size), class_names, size, feature_handle=extractor.handle,
                        head=head, extractor=extractor)


def _backbone(run: Run):
    """The network under the head when the whole of it runs: random weights from scratch, else the handle's."""
    if run.config.from_scratch:
        name = bundled.features_network(run.feature_handle)
        return lite.build_efficientnet_lite(name, include_top=False, weights=None), lite.variant(name).size
    return models.load_layer(run.feature_handle, trainable=run.config.fine_tune)


def _set_cam_weights(trained: TrainedModel, run: Run) -> None:
    network = bundled.features_network(run.feature_handle)
    if network and not (run.config.fine_tune or run.config.from_scratch):
        # A bundled network's own weights under a linear layer: Grad-CAM can look inside.
        trained.cam_network = network
        trained.cam_weights = tuple(w.astype(np.float32) for w in trained.model.get_layer("classifier").get_weights())


def rebuild(run: Run, class_names, weights: list[np.ndarray], extractor: FeatureExtractor | None = None) -> TrainedModel:
    """The model of ``run`` made again from its :meth:`TrainedModel.learned_weights`.

    Those of a worker process that trained it, or those kept on disk before the app restarted.
    """
    config, handle = run.config, run.feature_handle
    if config.uses_cached_features:
        extractor = extractor if extractor is not None and extractor.handle == handle else FeatureExtractor(handle)
        head = build_head(extractor.dim, len(class_names), config.dropout, config.seed)
        head.set_weights(weights)
        trained = _on_extractor(head, extractor, class_names)
    else:
        backbone, size = _backbone(run)
        head = build_head(int(backbone.compute_output_shape((None, size, size, 3))[-1]), len(class_names),
                          config.dropout, config.seed)
        model = assemble(backbone, head, size)
        model.set_weights(weights)
        trained = TrainedModel(model, class_names, size, feature_handle=handle)
    _set_cam_weights(trained, run)
    return trained


def _train_on_images(dataset, split, run: Run, strategy=None):
    """The whole network runs on every photo, every epoch: augmentation, fine-tuning, or from scratch."""
    config, handle = run.config, run.feature_handle
    files = np.asarray(dataset.files, dtype=object)
    labels = np.asarray(dataset.labels, dtype=np.int32)
    if config.from_scratch:
        run.set_status("starting", _("Building the network with random weights…"))
    with _scope(strategy):
        backbone, size = _backbone(run)
        tf_keras.utils.set_random_seed(config.seed)  # As for the head on features: after loading, before building.
        head = build_head(int(backbone.compute_output_shape((None, size, size, 3))[-1]), len(dataset.class_names),
                          config.dropout, config.seed)
        model = assemble(backbone, head, size)
        model.compile(tf_keras.optimizers.Adam(config.learning_rate), "sparse_categorical_crossentropy",
                      ["accuracy"])
    skip_log = pipeline.SkipLog()
    train_ds = pipeline.image_batches(
        files[split.train], size, labels=labels[split.train], batch_size=config.batch_size, skipped=skip_log,
        augment=_augmenter(config.seed) if config.augment else None,
        shuffle_seed=config.seed).map(lambda x, y, i: (x, y))
    val_ds = pipeline.image_batches(files[split.validation], size, labels=labels[split.validation],
                                    batch_size=config.batch_size, skipped=skip_log)
    run.set_status("training")
    model.fit(train_ds, epochs=config.epochs, validation_data=val_ds.map(lambda x, y, i: (x, y)), verbose=0,
              callbacks=[LiveStats(run, -(-len(split.train) // config.batch_size))])
    trained = TrainedModel(model, dataset.class_names, size, feature_handle=handle)
    val_probs, val_skipped = trained.file_probabilities(files[split.validation])
    keep = [i for i in range(len(split.validation)) if i not in val_skipped]
    return trained, split.validation[keep], val_probs[keep]


def _check_left(train_idx, val_idx, skipped) -> None:
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise HubDemoError(_("Too few readable images left to train and check ({n_skipped} could not be "
                             "read). Add photos or fix the unreadable ones.").format(n_skipped=len(skipped)))


def start(dataset: datasets.Dataset, run: Run, extractor: FeatureExtractor | None = None) -> Run:
    """Train ``run`` on a background thread and return it at once.

    The thread never calls Streamlit; errors end up in the run's status and
    message, so a page can show them.
    """
    def work():
        with i18n.speaking(run.language):  # Its messages in the language of whoever started it.
            try:
                train(dataset, run, extractor)
            except HubDemoError as err:
                run.set_status("error", str(err))
            except Exception as err:  # Shown on the page as one line; the thread must not die silently.
                run.set_status("error", _("Training failed: {error}: {message}").format(
                    error=err.__class__.__name__, message=err))

    run.thread = threading.Thread(target=work, name="hubdemo-training", daemon=True)
    run.thread.start()
    return run


def parameter_summary(feature_layer, dim: int, num_classes: int, config: TrainConfig) -> list[dict]:
    """The model's layers with parameter counts, as the tutorial's ``model.summary()`` shows them."""
    module = feature_layer.resolved_object
    backbone = int(sum(np.prod(v.shape) for v in module.variables))
    backbone_trainable = (int(sum(np.prod(v.shape) for v in module.trainable_variables))
                          if config.fine_tune or config.from_scratch else 0)
    layer, output, parameters, trainable = _("Layer"), _("Output"), _("Parameters"), _("Trainable")
    rows = [{layer: _("hub.KerasLayer (feature extractor)"), output: f"(None, {dim})",
             parameters: backbone, trainable: backbone_trainable}]
    if config.dropout:
        rows.append({layer: f"Dropout({config.dropout})", output: f"(None, {dim})", parameters: 0, trainable: 0})
    head = dim * num_classes + num_classes
    rows.append({layer: "Dense (softmax)", output: f"(None, {num_classes})", parameters: head, trainable: head})
    return rows
