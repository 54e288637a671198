"""Where a model looks: heatmaps by Grad-CAM (the bundled network) and by occlusion or integrated gradients (any model).

Every heatmap is an (H, W) float array of the model's input size, values in
[0, 1] with 1 the most important, aligned with the whole photo squeezed to
that size (as the model sees it).

- Grad-CAM (Selvaraju et al., 2017) reads a bundled EfficientNet-Lite network
  from the inside, so it needs the network rebuilt in Keras (:class:`CamNetwork`)
  and a model made of its features with a linear last layer: the ImageNet
  classifier, or your head on its frozen features. Plain Grad-CAM weighs a
  map's channels by their average gradient; here each position is weighed by
  its own positive gradients (LayerCAM, Jiang et al., 2021), on the maps at an
  eighth and a sixteenth of the input (28×28 and 14×14 for Lite0), which finds
  what matters far more often (``bench/heatmap_faithfulness.py``: about 88% of
  flower photos against about 68% for plain Grad-CAM on Lite0; 80–90% for Lite1
  and Lite2).
- Occlusion sensitivity (Zeiler & Fergus, 2014) greys one patch at a time and
  measures how much the class's log-probability drops: any model, forward
  passes only.
- Integrated gradients (Sundararajan et al., 2017) sums the gradients along the
  way from a grey image to the photo: any differentiable model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hubdemo import lite, models
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

METHODS = ("gradcam", "occlusion", "integrated-gradients")
GREY = 0.5  # What "removed" looks like to the model: the middle of [0, 1].
OCCLUSION_GRID = 14  # Patches per side: 16 px on a 224-pixel input.
IG_STEPS = 24
CAM_STAGES = (2, 4)  # The stages whose last block Grad-CAM reads: at 1/8 and 1/16 of the input (28×28, 14×14).
LAST_LAYER = "head_relu6"  # The 7×7×1280 map that is averaged into the features.
IG_SIGMA = 3.0  # Pixels: integrated gradients are speckled; a light blur makes regions of them.


@dataclass(frozen=True)
class Heatmap:
    """Where the model looked for one class in one image."""

    heat: np.ndarray  # (size, size) float32 in [0, 1]; 1 = most important.
    index: int  # The class explained.
    label: str
    probability: float
    method: str
    seconds: float


def cam_layers(name: str = lite.LITE0) -> tuple[str, ...]:
    """The blocks Grad-CAM reads in a member of the family: the last of each of :data:`CAM_STAGES`.

    Each is a residual block (``blockN_add``): deeper members repeat every middle stage, so the index moves
    (Lite0's are blocks 4 and 10).
    """
    ends = np.cumsum([stage["repeats"] for stage in lite.stages(name)]) - 1
    return tuple(f"block{ends[stage]}_add" for stage in CAM_STAGES)


class CamNetwork:
    """A bundled EfficientNet-Lite network, rebuilt in Keras so Grad-CAM can read its last blocks (thread-safe).

    Built from the same weights as the bundled SavedModels (BatchNorm folded),
    so it sees exactly what they see. Building takes a few seconds: the app
    keeps one per network and process.
    """

    def __init__(self, name: str = lite.LITE0):
        from hubdemo.tf import tf, tf_keras
        self.name, self.size = name, lite.variant(name).size
        full = lite.build_efficientnet_lite(name, fold_batch_norm=True)
        self.imagenet_head = tuple(w.astype(np.float32) for w in full.get_layer("logits").get_weights())
        maps = tf_keras.Model(full.input, [full.get_layer(layer).output for layer in (*cam_layers(name), LAST_LAYER)])
        width = full.get_layer(LAST_LAYER).output.shape[-1]

        @tf.function(input_signature=[tf.TensorSpec([None, self.size, self.size, 3]), tf.TensorSpec([width, None]),
                                      tf.TensorSpec([None]), tf.TensorSpec([None], tf.int32)])
        def read(images, kernel, bias, classes):
            with tf.GradientTape() as tape:
                *inner, last = maps(images, training=False)
                logits = tf.reduce_mean(last, axis=[1, 2]) @ kernel + bias
                scores = tf.gather(logits, classes, axis=1, batch_dims=1)
            # LayerCAM: each position's channels weighed by their own positive gradients.
            heats = [tf.nn.relu(tf.reduce_sum(tf.nn.relu(g) * a, axis=-1))
                     for a, g in zip(inner, tape.gradient(scores, inner))]
            return heats, tf.nn.softmax(logits)
        self._read = read

    def heats(self, images: np.ndarray, kernel: np.ndarray, bias: np.ndarray, classes: np.ndarray):
        """``([heat at 1/8, heat at 1/16 of the input], probabilities)`` for a batch, each image for its class."""
        heats, probs = self._read(images, kernel, bias, np.asarray(classes, np.int32))
        return [h.numpy() for h in heats], probs.numpy()


def gradcam_network(classifier: models.ImageClassifier) -> str:
    """The bundled network whose insides Grad-CAM reads to explain ``classifier``; "" when it cannot.

    A bundled network plus a linear layer qualifies: the ImageNet classifier
    built from bundled weights, and any model of yours trained on bundled
    features with the backbone frozen (it carries ``cam_weights``). A
    fine-tuned backbone or another network does not.
    """
    return getattr(classifier, "cam_network", "") or ""


def gradcam_ready(classifier: models.ImageClassifier) -> bool:
    """True when Grad-CAM can read ``classifier`` (:func:`gradcam_network`)."""
    return bool(gradcam_network(classifier))


def cam_head(classifier: models.ImageClassifier, network: CamNetwork) -> tuple[np.ndarray, np.ndarray]:
    """The ``(kernel, bias)`` of the linear layer that turns the network's features into this model's classes."""
    weights = getattr(classifier, "cam_weights", None)
    return weights if weights is not None else network.imagenet_head


def methods_for(classifier: models.ImageClassifier) -> tuple[str, ...]:
    """The methods that can explain ``classifier``, the default first."""
    return METHODS if gradcam_ready(classifier) else METHODS[1:]


def explain(classifier: models.ImageClassifier, images: np.ndarray, *, method: str | None = None,
            network: CamNetwork | None = None, classes=None) -> list[Heatmap]:
    """Heatmaps for a batch of model inputs (n, size, size, 3) in [0, 1].

    Args:
        method: one of :data:`METHODS`; by default the first of :func:`methods_for`.
        network: the :class:`CamNetwork` of :func:`gradcam_network` (Grad-CAM only; built here if None
            or another network's).
        classes: the class index to explain for each image; by default the model's top class.

    Raises:
        HubDemoError: an unknown method, or Grad-CAM for a model it cannot read.
    """
    method = method or methods_for(classifier)[0]
    if method not in METHODS:
        raise HubDemoError(_("Unknown method '{method}'. Choose one of: {methods}.").format(
                method=method, methods=', '.join(METHODS)))
    images = np.asarray(images, np.float32)
    started = time.perf_counter()
    probs = classifier.probabilities(images)
    classes = probs.argmax(axis=1) if classes is None else np.asarray(classes, int)
    if method == "gradcam":
        heat = _gradcam(classifier, images, classes, network)
    elif method == "occlusion":
        heat = _occlusion(classifier, images, classes, probs)
    else:
        heat = _integrated_gradients(classifier, images, classes)
    seconds = (time.perf_counter() - started) / len(images)
    return [Heatmap(_normalise(h), int(c), classifier.labels[c], float(p[c]), method, seconds)
            for h, c, p in zip(heat, classes, probs)]


def gradcam_heats(classifier: models.ImageClassifier, images: np.ndarray, classes, network: CamNetwork) -> np.ndarray:
    """Grad-CAM heatmaps (n, size, size) in [0, 1] of the given classes, as :func:`explain` makes them, without
    the forward pass it adds to name the classes: for live video, whose reading knows them already."""
    return np.stack([_normalise(h) for h in _gradcam(classifier, np.asarray(images, np.float32),
                                                     np.asarray(classes, int), network)])


FAITHFULNESS_GRID = 14  # Cells per side when a heatmap is tested by greying what it points at.
FAITHFULNESS_SHARE = 0.15


def grey_cells(image: np.ndarray, cells, grid: int = FAITHFULNESS_GRID) -> np.ndarray:
    """``image`` with the given ``(row, col)`` cells of a ``grid``×``grid`` division greyed out."""
    edges = np.linspace(0, image.shape[0], grid + 1).round().astype(int)
    out = image.copy()
    for row, col in cells:
        out[edges[row]:edges[row + 1], edges[col]:edges[col + 1]] = GREY
    return out


def faithfulness(classifier, image: np.ndarray, heat: np.ndarray, class_index: int, *, draws: int = 5,
                 seed: int = 0) -> tuple[float, float]:
    """Does the heat point at what matters? The class's probability with the hottest 15% of cells greyed,
    and with 15% of cells chosen at random (the mean of ``draws``); a faithful heatmap makes the first lower.
    """
    grid = FAITHFULNESS_GRID
    edges = np.linspace(0, heat.shape[0], grid + 1).round().astype(int)
    cell_heat = np.array([[heat[edges[r]:edges[r + 1], edges[c]:edges[c + 1]].mean() for c in range(grid)]
                          for r in range(grid)]).ravel()
    count = round(FAITHFULNESS_SHARE * grid * grid)
    rng = np.random.default_rng(seed)
    chosen = [np.argsort(-cell_heat, kind="stable")[:count]] + [rng.choice(grid * grid, count, replace=False)
                                                                for _ in range(draws)]
    batch = np.stack([grey_cells(image, [divmod(int(i), grid) for i in cells]) for cells in chosen])
    probs = classifier.probabilities(batch)[:, class_index]
    return float(probs[0]), float(probs[1:].mean())


def _gradcam(classifier, images, classes, network) -> np.ndarray:
    if not gradcam_ready(classifier):
        raise HubDemoError(_("Grad-CAM reads the bundled EfficientNet-Lite networks from the inside, so it explains "
                             "only models built on them with the backbone frozen. Use occlusion or integrated "
                             "gradients for this model."))
    if network is None or network.name != gradcam_network(classifier):
        network = CamNetwork(gradcam_network(classifier))
    heats, _logits = network.heats(images, *cam_head(classifier, network), classes)
    size = images.shape[1]
    return np.stack([sum(_normalise(_upsample(layer[i], size)) for layer in heats) for i in range(len(images))])


def _occlusion(classifier, images, classes, probs, grid: int = OCCLUSION_GRID) -> np.ndarray:
    """How much the class's log-probability drops when each patch is greyed (rises count as nothing)."""
    size = images.shape[1]
    edges = np.linspace(0, size, grid + 1).round().astype(int)
    heats = []
    for image, c, p in zip(images, classes, probs):
        batch = np.stack([grey_cells(image, [cell], grid) for cell in np.ndindex(grid, grid)])
        occluded = np.concatenate([classifier.probabilities(chunk)[:, c] for chunk in np.array_split(batch, 4)])
        drops = (np.log(p[c] + 1e-9) - np.log(occluded + 1e-9)).reshape(grid, grid)
        cell_of = np.searchsorted(edges, np.arange(size), side="right") - 1  # Each pixel's row (and column).
        heats.append(np.maximum(drops, 0)[cell_of][:, cell_of])
    return np.stack(heats)


def _integrated_gradients(classifier, images, classes, steps: int = IG_STEPS) -> np.ndarray:
    """Attribution of the class's log-probability to each pixel, from a grey image to the photo."""
    from scipy.ndimage import gaussian_filter

    from hubdemo.tf import tf
    baseline = np.full_like(images[:1], GREY)
    heats = []
    for image, c in zip(images, classes):
        alphas = np.linspace(0, 1, steps, dtype=np.float32)[:, None, None, None]
        path = tf.constant(baseline + alphas * (image[None] - baseline))
        with tf.GradientTape() as tape:
            tape.watch(path)
            score = tf.math.log(classifier.probabilities_tensor(path)[:, c] + 1e-9)
        grads = tape.gradient(score, path).numpy()
        attribution = ((image - baseline[0]) * grads.mean(axis=0)).sum(axis=-1)  # Signed: for, or against.
        heats.append(np.maximum(gaussian_filter(attribution, IG_SIGMA), 0))
    return np.stack(heats)


def overlay(image: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """The photo (as the model sees it, uint8 or [0, 1] floats) under its heat in colour, as uint8 RGB.

    The usual heatmap look: blue where the model does not look, through green
    and yellow to red where it looks most (matplotlib's "turbo" colours), laid
    evenly over the photo so it stays recognisable.
    """
    rgb = np.asarray(image, np.float32)
    rgb = rgb / 255.0 if rgb.max() > 1.0 else rgb
    colours = heat_colours(heat, (rgb.shape[1], rgb.shape[0])).astype(np.float32) / 255.0
    return ((1 - alpha) * rgb + alpha * colours).clip(0, 1).__mul__(255).round().astype(np.uint8)


def heat_colours(heat: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The heat in "turbo" colours as uint8 RGB at ``size`` = ``(width, height)``: stretched as the photo was
    squeezed to the model's square. Made once per heatmap, it can be laid over many video frames."""
    import matplotlib
    if heat.shape != (size[1], size[0]):
        heat = _normalise(_upsample(heat, size))
    return (matplotlib.colormaps["turbo"](heat)[..., :3] * 255).round().astype(np.uint8)


def _upsample(heat: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """``heat`` resized (bilinear) to ``size``×``size``, or to ``(width, height)``."""
    from PIL import Image
    width, height = (size, size) if isinstance(size, int) else size
    return np.asarray(Image.fromarray(heat.astype(np.float32), "F").resize((width, height), Image.BILINEAR))


def _normalise(heat: np.ndarray) -> np.ndarray:
    heat = np.nan_to_num(np.asarray(heat, np.float32))
    top = heat.max()
    return heat / top if top > 0 else np.zeros_like(heat)
