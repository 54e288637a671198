"""Transfer learning as in the tutorial: a frozen TF Hub feature extractor, a new Dense head, live statistics.

    model = tf_keras.Sequential([hub.KerasLayer(feature_vector, trainable=False),
                                 tf_keras.layers.Dense(num_classes, activation="softmax")])

Fast path: with the backbone frozen and no augmentation, each image's features
are computed once (:mod:`hubdemo.features`) and the head trains on them; the
exported model is the same Sequential either way. Training reports through a
:class:`TrainingRun` that a page can poll from another thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from hubdemo import datasets, evaluation, models, pipeline
from hubdemo.errors import HubDemoError
from hubdemo.features import FeatureExtractor
from hubdemo.tf import tf, tf_keras


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults reach 0.85+ validation accuracy on 600 flower photos.

    Measured on ../shared/data/flowers with Lite0 features, seeds 0-3: 0.85-0.875
    (10 epochs without dropout: 0.82-0.86).
    """

    epochs: int = 20
    batch_size: int = 32  # As the tutorial.
    learning_rate: float = 0.002  # Adam; a head on good features takes a brisker rate than fine-tuning.
    validation_split: float = 0.2
    seed: int = 0
    augment: bool = False  # Random flip, rotation and zoom of training images.
    dropout: float = 0.3  # Before the head: 600 photos and 1280 features overfit without it.
    fine_tune: bool = False  # Train the whole backbone too (slow; use a learning rate near 1e-5).

    @property
    def uses_cached_features(self) -> bool:
        """Augmented or fine-tuned images change every epoch; otherwise the features never do."""
        return not (self.augment or self.fine_tune)

    def check(self) -> None:
        """Raises HubDemoError naming the first setting out of range."""
        rules = [("epochs", 1, 200), ("batch_size", 1, 1024), ("learning_rate", 1e-7, 1.0),
                 ("validation_split", 0.05, 0.5), ("dropout", 0.0, 0.9)]
        for name, low, high in rules:
            value = getattr(self, name)
            if not low <= value <= high:
                raise HubDemoError(f"`{name}` must be between {low} and {high}, not {value}.")


# --- Live progress shared with the page -------------------------------------------------------

@dataclass
class RunSnapshot:
    """A consistent copy of a run's progress, safe to read while training goes on."""

    status: str
    message: str
    batches: list[dict]
    epochs: list[dict]
    epoch: int
    total_epochs: int
    step: int
    steps_per_epoch: int
    extracted: tuple[int, int]
    elapsed: float

    @property
    def fraction_done(self) -> float:
        if self.status == "extracting":
            done, total = self.extracted
            return done / total if total else 0.0
        total = self.total_epochs * max(self.steps_per_epoch, 1)
        return min(1.0, (self.epoch * max(self.steps_per_epoch, 1) + self.step) / total)

    @property
    def seconds_left(self) -> float | None:
        done = self.fraction_done
        return self.elapsed * (1 - done) / done if done > 0.02 else None


class TrainingRun:
    """What a training thread and a page share: a lock, a stop event, the history and the status.

    The thread calls the ``set_*``/``record_*`` methods and never Streamlit; the
    page reads :meth:`snapshot` and calls :meth:`stop`. ``status`` goes
    starting → extracting → training → done | stopped | error.
    """

    def __init__(self, config: TrainConfig, on_epoch_end: Callable[[dict], None] | None = None):
        self.config = config
        self.on_epoch_end = on_epoch_end  # Called with each epoch's record, e.g. to print it.
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._status, self._message = "starting", ""
        self._batches: list[dict] = []
        self._epochs: list[dict] = []
        self._epoch = self._step = self._steps_per_epoch = 0
        self._extracted = (0, 0)
        self._started = time.monotonic()
        self._finished: float | None = None
        self.result: TrainedModel | None = None
        self.thread: threading.Thread | None = None

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._status in ("starting", "extracting", "training")

    def set_status(self, status: str, message: str = "") -> None:
        with self._lock:
            self._status, self._message = status, message
            if status in ("done", "stopped", "error"):
                self._finished = time.monotonic()

    def set_extracted(self, done: int, total: int) -> None:
        with self._lock:
            self._extracted = (done, total)

    def begin_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        with self._lock:
            self._epoch, self._step, self._steps_per_epoch = epoch, 0, steps_per_epoch

    def record_batch(self, step: int, loss: float, accuracy: float) -> None:
        with self._lock:
            self._step = step + 1
            self._batches.append({"step": len(self._batches) + 1, "epoch": self._epoch + 1,
                                  "loss": loss, "accuracy": accuracy})

    def record_epoch(self, logs: dict) -> None:
        record = {"epoch": self._epoch + 1, "step": len(self._batches), **{k: float(v) for k, v in logs.items()}}
        with self._lock:
            self._epochs.append(record)
        if self.on_epoch_end:
            self.on_epoch_end(record)

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            end = self._finished or time.monotonic()
            return RunSnapshot(self._status, self._message, list(self._batches), list(self._epochs),
                               self._epoch, self.config.epochs, self._step, self._steps_per_epoch,
                               self._extracted, end - self._started)


class LiveStats(tf_keras.callbacks.Callback):
    """The tutorial's ``CollectBatchStats``: every batch's loss and accuracy, into a TrainingRun.

    Also the Stop button's hook: Keras checks ``stop_training`` after every
    batch, so training ends after the current one and keeps its weights.
    """

    def __init__(self, run: TrainingRun, steps_per_epoch: int):
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

@dataclass
class TrainedModel:
    """A trained classifier and what is known about it. Lives in one user's session, never a shared cache."""

    model: object  # tf_keras.Sequential: hub.KerasLayer + head, the model that is exported.
    head: object | None  # The head alone, on cached features (fast path only).
    feature_handle: str
    image_size: int
    class_names: tuple[str, ...]
    dataset_name: str
    dataset_root: Path
    config: TrainConfig
    evaluation: evaluation.Evaluation
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def probabilities(self, files, extractor: FeatureExtractor | None = None) -> tuple[np.ndarray, dict[int, str]]:
        """Class probabilities for image files, and ``{index: reason}`` for those that failed.

        With the frozen backbone and a matching extractor, cached features go
        through the head; otherwise the full model runs on the images.
        """
        if self.head is not None and extractor is not None and extractor.handle == self.feature_handle:
            feats, skipped = extractor.extract(list(files))
            return self.head(feats, training=False).numpy(), skipped
        return predict_files(self.model, files, self.image_size)


def predict_files(model, files, image_size: int) -> tuple[np.ndarray, dict[int, str]]:
    """Run a full image model over files through the pipeline; rows of unreadable files are zeros."""
    log = pipeline.SkipLog()
    out = None
    for images, _, indices in pipeline.image_batches(list(files), image_size, skipped=log):
        probs = model(images, training=False).numpy()
        if out is None:
            out = np.zeros((len(files), probs.shape[1]), np.float32)
        out[indices.numpy()] = probs
    if out is None:
        out = np.zeros((len(files), 0), np.float32)
    return out, dict(log.items)


def build_head(feature_dim: int, num_classes: int, dropout: float):
    """The new classification layer (plus optional dropout) on top of the features."""
    layers = [tf_keras.Input((feature_dim,), name="features")]
    if dropout:
        layers.append(tf_keras.layers.Dropout(dropout, name="dropout"))
    layers.append(tf_keras.layers.Dense(num_classes, activation="softmax", name="classifier"))
    return tf_keras.Sequential(layers, name="head")


def assemble(feature_layer, head, image_size: int):
    """The tutorial's Sequential: the hub layer, then the head's layers (sharing their weights)."""
    return tf_keras.Sequential([tf_keras.Input((image_size, image_size, 3), name="images"), feature_layer,
                                *head.layers], name="transfer_model")


def _augmenter(seed: int):
    augment = tf_keras.Sequential([
        tf_keras.layers.RandomFlip("horizontal", seed=seed),
        tf_keras.layers.RandomRotation(0.1, seed=seed),
        tf_keras.layers.RandomZoom(0.1, seed=seed),
    ], name="augmentation")
    return lambda images: augment(images, training=True)


def train(dataset: datasets.Dataset, config: TrainConfig, feature_handle: str, run: TrainingRun,
          extractor: FeatureExtractor | None = None) -> TrainedModel | None:
    """Train a new head (or fine-tune) on ``dataset``; records progress in ``run``.

    Returns:
        The trained model (also as ``run.result``), or None if stopped before
        the first step (while features were being extracted).

    Raises:
        HubDemoError: bad settings, an unusable model, or every image unreadable.
    """
    config.check()
    started = time.monotonic()
    split = datasets.split(dataset, config.validation_split, config.seed)
    files = np.asarray(dataset.files, dtype=object)
    labels = np.asarray(dataset.labels, dtype=np.int32)
    num_classes = len(dataset.class_names)
    tf_keras.utils.set_random_seed(config.seed)

    if config.uses_cached_features:
        extractor = extractor if extractor is not None and extractor.handle == feature_handle \
            else FeatureExtractor(feature_handle)
        run.set_status("extracting", "Computing each image's features once…")
        feats, skipped = extractor.extract(list(files), progress=run.set_extracted,
                                           should_stop=run.stop_event.is_set)
        if run.stop_event.is_set():
            run.set_status("stopped", "Stopped before training began.")
            return None
        train_idx = np.array([i for i in split.train if i not in skipped], dtype=int)
        val_idx = np.array([i for i in split.validation if i not in skipped], dtype=int)
        _check_left(train_idx, val_idx, skipped)
        head = build_head(extractor.dim, num_classes, config.dropout)
        head.compile(tf_keras.optimizers.Adam(config.learning_rate), "sparse_categorical_crossentropy",
                     ["accuracy"])
        steps = -(-len(train_idx) // config.batch_size)
        run.set_status("training")
        head.fit(feats[train_idx], labels[train_idx], batch_size=config.batch_size, epochs=config.epochs,
                 validation_data=(feats[val_idx], labels[val_idx]), shuffle=True, verbose=0,
                 callbacks=[LiveStats(run, steps)])
        val_probs = head(feats[val_idx], training=False).numpy()
        # The frozen module is shared with the extractor (no second load): nothing trains it.
        feature_layer, size = models.keras_layer(extractor.layer.resolved_object, trainable=False)
        model = assemble(feature_layer, head, size)
    else:
        feature_layer, size = models.load_layer(feature_handle, trainable=config.fine_tune)
        head = build_head(int(feature_layer.compute_output_shape((None, size, size, 3))[-1]), num_classes,
                          config.dropout)
        model = assemble(feature_layer, head, size)
        model.compile(tf_keras.optimizers.Adam(config.learning_rate), "sparse_categorical_crossentropy",
                      ["accuracy"])
        skip_log = pipeline.SkipLog()
        train_ds = pipeline.image_batches(
            files[split.train], size, labels=labels[split.train], batch_size=config.batch_size,
            skipped=skip_log, augment=_augmenter(config.seed) if config.augment else None,
            shuffle_seed=config.seed).map(lambda x, y, i: (x, y))
        val_ds = pipeline.image_batches(files[split.validation], size, labels=labels[split.validation],
                                        batch_size=config.batch_size, skipped=skip_log)
        run.set_status("training")
        model.fit(train_ds, epochs=config.epochs, validation_data=val_ds.map(lambda x, y, i: (x, y)),
                  verbose=0, callbacks=[LiveStats(run, -(-len(split.train) // config.batch_size))])
        val_probs, val_skipped = predict_files(model, files[split.validation], size)
        keep = [i for i in range(len(split.validation)) if i not in val_skipped]
        val_idx, val_probs = split.validation[keep], val_probs[keep]
        head = None

    result = TrainedModel(
        model=model, head=head if config.uses_cached_features else None, feature_handle=feature_handle,
        image_size=size, class_names=dataset.class_names, dataset_name=dataset.name, dataset_root=dataset.root,
        config=config,
        evaluation=evaluation.evaluate(val_probs, labels[val_idx], dataset.class_names, files[val_idx]),
        history=run.snapshot().epochs, seconds=time.monotonic() - started)
    run.result = result
    run.set_status("stopped" if run.stop_event.is_set() else "done",
                   "Stopped early; the model keeps what it learned so far." if run.stop_event.is_set() else "")
    return result


def _check_left(train_idx, val_idx, skipped) -> None:
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise HubDemoError(f"Too few readable images left to train and check ({len(skipped)} could not be "
                           "read). Add photos or fix the unreadable ones.")


def start(dataset: datasets.Dataset, config: TrainConfig, feature_handle: str,
          extractor: FeatureExtractor | None = None) -> TrainingRun:
    """Start training on a background thread and return its run at once.

    The thread never calls Streamlit; errors end up in the run's status and
    message, so a page can show them.
    """
    run = TrainingRun(config)

    def work():
        try:
            train(dataset, config, feature_handle, run, extractor)
        except HubDemoError as err:
            run.set_status("error", str(err))
        except Exception as err:  # Shown on the page as one line; the thread must not die silently.
            run.set_status("error", f"Training failed: {err.__class__.__name__}: {err}")

    run.thread = threading.Thread(target=work, name="hubdemo-training", daemon=True)
    run.thread.start()
    return run


def parameter_summary(feature_layer, dim: int, num_classes: int, config: TrainConfig) -> list[dict]:
    """The model's layers with parameter counts, as the tutorial's ``model.summary()`` shows them."""
    module = feature_layer.resolved_object
    backbone = int(sum(np.prod(v.shape) for v in module.variables))
    backbone_trainable = int(sum(np.prod(v.shape) for v in module.trainable_variables)) if config.fine_tune else 0
    rows = [{"Layer": "hub.KerasLayer (feature extractor)", "Output": f"(None, {dim})",
             "Parameters": backbone, "Trainable": backbone_trainable}]
    if config.dropout:
        rows.append({"Layer": f"Dropout({config.dropout})", "Output": f"(None, {dim})", "Parameters": 0,
                     "Trainable": 0})
    head = dim * num_classes + num_classes
    rows.append({"Layer": "Dense (softmax)", "Output": f"(None, {num_classes})", "Parameters": head,
                 "Trainable": head})
    return rows
