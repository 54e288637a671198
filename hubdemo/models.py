"""The model catalogue, loading any handle through ``hub.KerasLayer``, and ImageNet classification.

A handle is a TF Hub or Kaggle URL, a local folder holding a TF Hub-format
SavedModel, or ``bundled:efficientnet_lite0/<variant>`` (built offline into the
cache by :mod:`hubdemo.bundled`). Loading is plain here; the app caches it.
"""

from __future__ import annotations

import re

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hubdemo import bundled, images, labels, lite, paths, pipeline
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _

DEFAULT_INPUT_SIZE = 224


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry. ``kind`` is ``classification`` (ImageNet logits) or ``feature_vector``."""

    name: str
    title: str
    handle: str
    kind: str
    description: str


CATALOGUE = (
    # Sizes are the SavedModel's; speeds a batch of photos on a 2-core laptop (bench: classify_throughput).
    ModelSpec("efficientnet_lite0", N_("EfficientNet-Lite0 (bundled, works offline)"),
              "bundled:efficientnet_lite0/classification", "classification",
              N_("EfficientNet-Lite0 (Tan & Le, 2019), a 4.7M-parameter network made for phones: 19 MB, "
                 "224-pixel photos, about 6 ms a photo here, 75.1% top-1 on ImageNet. Its weights ship with "
                 "the app, so it works without internet.")),
    ModelSpec("efficientnet_lite0_features", N_("EfficientNet-Lite0 feature vector (bundled, works offline)"),
              "bundled:efficientnet_lite0/feature_vector", "feature_vector",
              N_("The same network without its last layer: 1280 numbers per image that describe what is "
                 "in it. Training a new head on them is transfer learning.")),
    ModelSpec("efficientnet_lite1", N_("EfficientNet-Lite1 (bundled, works offline)"),
              "bundled:efficientnet_lite1/classification", "classification",
              N_("EfficientNet-Lite1: Lite0 with more blocks (21, not 16) for 240-pixel photos. 5.5M "
                 "parameters, 22 MB, about 12 ms a photo here, 76.7% top-1 on ImageNet. Works offline; "
                 "built from its bundled weights the first time (about 10 seconds).")),
    ModelSpec("efficientnet_lite1_features", N_("EfficientNet-Lite1 feature vector (bundled, works offline)"),
              "bundled:efficientnet_lite1/feature_vector", "feature_vector",
              N_("Lite1 without its last layer: 1280 features per 240-pixel photo. A little more accurate "
                 "than Lite0's on ImageNet, about twice as slow to compute.")),
    ModelSpec("efficientnet_lite2", N_("EfficientNet-Lite2 (bundled, works offline)"),
              "bundled:efficientnet_lite2/classification", "classification",
              N_("EfficientNet-Lite2: Lite0 wider and deeper, for 260-pixel photos. 6.1M parameters, 25 MB, "
                 "about 13 ms a photo here, 77.6% top-1 on ImageNet. Works offline; built from its bundled "
                 "weights the first time (about 10 seconds).")),
    ModelSpec("efficientnet_lite2_features", N_("EfficientNet-Lite2 feature vector (bundled, works offline)"),
              "bundled:efficientnet_lite2/feature_vector", "feature_vector",
              N_("Lite2 without its last layer: 1280 features per 260-pixel photo, the most accurate of the "
                 "three on ImageNet and the slowest.")),
    ModelSpec("mobilenet_v2", N_("MobileNetV2 from TF Hub (the tutorial's; needs internet once)"),
              "https://tfhub.dev/google/tf2-preview/mobilenet_v2/classification/2", "classification",
              N_("The tutorial's MobileNetV2 (Sandler et al., 2018), 3.5M parameters, 71.8% top-1. "
              "Downloaded from TF Hub on first use, then kept in the cache.")),
    ModelSpec("mobilenet_v2_features", N_("MobileNetV2 feature vector from TF Hub (needs internet once)"),
              "https://tfhub.dev/google/tf2-preview/mobilenet_v2/feature_vector/2", "feature_vector",
              N_("The tutorial's MobileNetV2 without its classifier: 1280 features per image.")),
)
DEFAULT_CLASSIFIER = "efficientnet_lite0"
FEATURES_SUFFIX = "_features"


def catalogue(kind: str) -> tuple[ModelSpec, ...]:
    """The catalogue entries of one kind, default first."""
    return tuple(spec for spec in CATALOGUE if spec.kind == kind)


def resolve_handle(name_or_handle: str) -> str:
    """A catalogue name becomes its handle; anything else is taken as a handle."""
    text = name_or_handle.strip()
    return {spec.name: spec.handle for spec in CATALOGUE}.get(text, text)


def short_name(handle: str) -> str:
    """A catalogue model's short name ("EfficientNet-Lite0"), else the handle itself."""
    for spec in CATALOGUE:
        if spec.handle == handle:
            return re.split(r" \(|（", _(spec.title))[0]  # Before the brackets, in either script.
    return handle


def declared_input_size(handle: str) -> int:
    """The square photos a model takes: ours are known without loading them; any other is loaded to ask it."""
    if bundled.is_bundled(handle):
        return lite.VARIANTS[bundled.network(handle)].size
    return load_layer(resolve_handle(handle))[1]


def imagenet_twin(feature_handle: str) -> str:
    """The ImageNet classifier built on the same network as a feature-vector handle (default: Lite0's).

    A trained model and this classifier share every layer but the last, which
    is what the classifier page shows side by side.
    """
    by_name = {spec.name: spec.handle for spec in CATALOGUE}
    for spec in CATALOGUE:
        if spec.handle == feature_handle and spec.name.endswith(FEATURES_SUFFIX):
            return by_name.get(spec.name.removesuffix(FEATURES_SUFFIX), by_name[DEFAULT_CLASSIFIER])
    return by_name[DEFAULT_CLASSIFIER]


def needs_build(handle: str) -> bool:
    """True when loading ``handle`` will first build the bundled model (a slow, one-time step)."""
    return bundled.is_bundled(handle) and not bundled.is_built(bundled.network(handle))


def hub_handle(handle: str) -> str:
    """What plain ``hub.KerasLayer`` code would load: the bundled model's local folder, else the handle."""
    return bundled.resolve(handle) if bundled.is_bundled(handle) else handle


def _is_url(handle: str) -> bool:
    return handle.startswith(("http://", "https://", "gs://"))


def load_module(handle: str):
    """``hub.load(handle)`` with failures explained in a sentence.

    Passing the loaded object (not the handle string) to ``hub.KerasLayer``
    keeps Keras 3 out of the process: given a string, tensorflow_hub imports
    ``keras`` to try Keras' own loader first.

    Raises:
        HubDemoError: empty handle, missing folder, a folder that is not a
            SavedModel, or a URL that cannot be downloaded.
    """
    handle = handle.strip()
    if not handle:
        raise HubDemoError(_("No model handle given. Type a TF Hub URL or a local SavedModel folder."))
    if bundled.is_bundled(handle):
        handle = bundled.resolve(handle)
    elif not _is_url(handle):
        folder = Path(handle).expanduser()
        if not folder.exists():
            names = ", ".join(spec.name for spec in CATALOGUE)
            raise HubDemoError(_("No model at '{handle}': it is not a URL, a catalogue name ({names}) "
                                 "or an existing folder.").format(handle=handle, names=names))
        if not (folder / "saved_model.pb").is_file():
            raise HubDemoError(
                _("'{handle}' is not a SavedModel folder (there is no saved_model.pb in it). "
                  "Point to the folder that holds saved_model.pb and variables/.").format(handle=handle))
        handle = str(folder)
    else:
        paths.configure_tfhub_cache()

    from hubdemo.tf import hub
    try:
        return hub.load(handle)
    except OSError as err:
        if _is_url(handle):
            raise HubDemoError(
                _("Could not download '{handle}' ({reason}). Without internet, "
                  "use the bundled EfficientNet-Lite0, or download the model on a connected machine "
                  "and give the path of its folder instead of the address.").format(
                          handle=handle, reason=getattr(err, 'reason', err))) from err
        raise HubDemoError(_("Could not read the model in '{handle}': {err}").format(handle=handle, err=err)) from err
    except Exception as err:  # TF raises many types for a broken or foreign SavedModel.
        raise HubDemoError(_("'{handle}' could not be loaded as a TF Hub model: {err}").format(
                handle=handle, err=err)) from err


def input_size(module) -> int:
    """The square input size a loaded module declares, or 224 if it takes any size.

    Raises:
        HubDemoError: the module does not take (batch, height, width, 3) images.
    """
    try:
        spec = module.__call__.concrete_functions[0].structured_input_signature[0][0]
        shape = spec.shape.as_list()
    except (AttributeError, IndexError, TypeError):
        return DEFAULT_INPUT_SIZE
    if len(shape) != 4 or shape[-1] != 3:
        raise HubDemoError(
            _("This model takes inputs of shape {shape}, not images (batch, height, width, 3). "
              "Choose an image model.").format(shape=shape))
    return shape[1] or DEFAULT_INPUT_SIZE


def load_layer(handle: str, *, trainable: bool = False):
    """Load ``handle`` as a ``hub.KerasLayer``; returns ``(layer, input_size)``."""
    return keras_layer(load_module(handle), trainable=trainable)


def keras_layer(module, *, trainable: bool = False):
    """A new ``hub.KerasLayer`` around an already loaded module; returns ``(layer, input_size)``."""
    from hubdemo.tf import hub
    size = input_size(module)
    return hub.KerasLayer(module, trainable=trainable, input_shape=(size, size, 3)), size


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float


UNSURE = 0.25  # Below this, ImageNet's best guess is a shrug more than an answer.


def unsure(top_probability: float, n_classes: int) -> bool:
    """Whether a best guess is too weak to trust: under 25%, or, with a few classes, under 1.5× chance.

    A model always names one of its classes, even for a photo of none of them: a weak best guess is the
    sign of it (ImageNet has daisies but no roses, and calls a rose a candle at 19%). With two classes,
    60% is barely better than a coin.
    """
    return top_probability < max(UNSURE, 1.5 / max(n_classes, 1))


@dataclass(frozen=True)
class ImageResult:
    """What happened to one input: predictions, or an error message for a file that could not be read."""

    name: str
    predictions: tuple[Prediction, ...] = ()
    error: str | None = None
    seconds: float = 0.0


class ImageClassifier:
    """Images in, named class probabilities out: one interface for ImageNet models, trained models and exports.

    A subclass sets ``labels`` (one name per output, in order),
    ``input_size`` and ``uid`` (a key naming this model in result caches), and
    implements :meth:`probabilities`. Everything else (top-k, files, paths) is
    shared, so every page and the CLI treat every model alike. Instances are
    used from many threads at once.
    """

    labels: tuple[str, ...] = ()
    input_size: int = DEFAULT_INPUT_SIZE
    uid: str = ""
    # When the model is a bundled network's features plus a linear layer, Grad-CAM can look inside it
    # (hubdemo.explain): the network's name (efficientnet_lite1), and the layer's (kernel, bias), None for
    # the ImageNet classifier's own. An empty name for any other model.
    cam_network: str = ""
    cam_weights: tuple[np.ndarray, np.ndarray] | None = None

    def probabilities_tensor(self, images):
        """Class probabilities as a TensorFlow tensor, differentiable with respect to ``images``."""
        raise NotImplementedError

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, len(labels)), for a (n, size, size, 3) float array in [0, 1]."""
        return self.probabilities_tensor(batch).numpy()

    def file_probabilities(self, files) -> tuple[np.ndarray, dict[int, str]]:
        """Probabilities for image files (a dataset's), and ``{index: reason}`` for those that failed."""
        return predict_files(self.probabilities, files, self.input_size)

    def top_k(self, probs: np.ndarray, k: int = 5) -> tuple[Prediction, ...]:
        """The ``k`` most probable classes of one image's probabilities."""
        order = np.argsort(-probs)[:k]
        return tuple(Prediction(int(i), self.labels[i], float(probs[i])) for i in order)

    def classify_files(self, files: list[tuple[str, bytes]], k: int = 5) -> list[ImageResult]:
        """Classify many files at once: decode in parallel, then one forward pass.

        A file that cannot be read gets an ``ImageResult`` with its error; the
        others are classified as usual.
        """
        prepared = prepare_images(files, self.input_size)
        good = [arr for arr in prepared if isinstance(arr, np.ndarray)]
        start = time.perf_counter()
        probs = self.probabilities(np.stack(good)) if good else np.empty((0, len(self.labels)))
        seconds = (time.perf_counter() - start) / max(len(good), 1)
        results, row = [], 0
        for (name, _data), arr in zip(files, prepared):
            if isinstance(arr, np.ndarray):
                results.append(ImageResult(name, self.top_k(probs[row], k), seconds=seconds))
                row += 1
            else:
                results.append(ImageResult(name, error=arr))
        return results

    def classify_paths(self, files: list[Path], k: int = 5) -> list[ImageResult]:
        """Classify image files (a grid batch): read, then :meth:`classify_files`.

        For one batch this beats a tf.data pipeline, whose per-call set-up costs
        more than the overlap it buys; the pipeline serves long runs (training).
        """
        def read(path):
            try:
                return Path(path).name, images.read_file(path)
            except HubDemoError as err:
                return Path(path).name, str(err)
        named = list(pipeline.DECODER_POOL.map(read, files))
        readable = [(name, data) for name, data in named if isinstance(data, bytes)]
        results = iter(self.classify_files(readable, k))
        return [next(results) if isinstance(data, bytes) else ImageResult(name, error=data)
                for name, data in named]


class ImageNetClassifier(ImageClassifier):
    """An ImageNet classifier from any handle, ready for many calls (thread-safe, no retracing).

    Raises (on construction):
        HubDemoError: the handle does not load, or the model's outputs are not
            ImageNet's 1000 or 1001 classes.
    """

    def __init__(self, handle: str):
        from hubdemo.tf import tf
        self.handle = self.uid = handle
        self.cam_network = bundled.classifier_network(handle) or ""
        module = load_module(handle)
        self.input_size = input_size(module)
        spec = tf.TensorSpec([None, self.input_size, self.input_size, 3])
        # The module itself, traced once for every batch size: no Keras layer in between, whose
        # tracing would cost half a second of the app's start.
        self._logits = tf.function(lambda images: module(images, training=False), input_signature=[spec],
                                   autograph=False)
        try:
            probe = self._logits(tf.zeros([1, self.input_size, self.input_size, 3]))
        except (TypeError, ValueError):  # A module whose __call__ takes no `training`.
            self._logits = tf.function(lambda images: module(images), input_signature=[spec], autograph=False)
            probe = self._logits(tf.zeros([1, self.input_size, self.input_size, 3]))
        if probe.shape.rank != 2:
            raise HubDemoError(
                _("This model outputs shape {as_list} per batch, not one row of "
                  "class scores per image. Pick an image classification model.").format(as_list=probe.shape.as_list()))
        self.labels = labels.imagenet_labels(int(probe.shape[-1]))

    def probabilities_tensor(self, images):
        """Softmax of the logits."""
        from hubdemo.tf import tf
        return tf.nn.softmax(self._logits(images))


class TransferClassifier(ImageClassifier):
    """A model that maps images to probabilities of its own classes: trained here, or reopened from an export.

    Args:
        model: called as ``model(images, training=False)``; a ``tf_keras`` model or
            a restored SavedModel. Its outputs are probabilities (a softmax head)
            or, if ``logits``, scores that get a softmax here.
        class_names: one per output, in output order.
        input_size: square side of the images it takes.
    """

    def __init__(self, model, class_names, input_size: int, *, logits: bool = False):
        from hubdemo.tf import tf
        self.model, self.labels, self.input_size = model, tuple(class_names), int(input_size)
        self.uid = uuid.uuid4().hex  # Unlike id(), never reused by a later model.

        def call(images):
            out = model(images, training=False)
            return tf.nn.softmax(out) if logits else out
        self._call = tf.function(call, input_signature=[tf.TensorSpec([None, input_size, input_size, 3])])

    def probabilities_tensor(self, images):
        return self._call(images)


def predict_files(predict, files, image_size: int) -> tuple[np.ndarray, dict[int, str]]:
    """``predict`` (a batch of images → probabilities) over image files; rows of unreadable files are zeros.

    Returns:
        ``(probabilities, {file index: reason})``.
    """
    log = pipeline.SkipLog()
    out = None
    for batch, _labels, indices in pipeline.image_batches(list(files), image_size, skipped=log):
        probs = np.asarray(predict(batch))
        if out is None:
            out = np.zeros((len(files), probs.shape[1]), np.float32)
        out[indices.numpy()] = probs
    if out is None:
        out = np.zeros((len(files), 0), np.float32)
    return out, dict(log.items)


def prepare_images(files: list[tuple[str, bytes]], size: int) -> list[np.ndarray | str]:
    """Each file as a model input array, or the message saying why it could not be read."""
    def prepare(item):
        name, data = item
        try:
            return images.load_for_model(data, size, name)
        except HubDemoError as err:
            return str(err)
    return list(pipeline.DECODER_POOL.map(prepare, files))
