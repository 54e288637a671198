"""An independent EfficientNet-Lite forward pass in plain numpy (float64), straight from a PyTorch state dict.

It shares nothing with :mod:`hubdemo.lite` but the published architecture: the
blocks, their channels and kernel sizes are read from the weights' own shapes,
a stage starts where a block changes the channel count, and the strides of the
seven stages are those of the EfficientNet paper. Padding is TensorFlow's
'same' (the weights were trained in TensorFlow), BatchNorm uses epsilon 1e-3.
"""

import numpy as np

STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
EPSILON = 1e-3


def _same_pad(x, kernel, stride):
    """TensorFlow's 'same' padding of an (H, W, C) array: the extra pixel, if any, goes after."""
    out = []
    for size in x.shape[:2]:
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        out.append((total // 2, total - total // 2))
    return np.pad(x, (*out, (0, 0)))


def _windows(x, kernel, stride):
    """(H', W', kernel, kernel, C) views of the padded input, one per output pixel."""
    x = _same_pad(x, kernel, stride)
    view = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(0, 1))  # (H-k+1, W-k+1, C, k, k)
    return view[::stride, ::stride].transpose(0, 1, 3, 4, 2)


def conv(x, weight, stride=1):
    """A full convolution; ``weight`` is PyTorch's (out, in, k, k)."""
    k = weight.shape[-1]
    if k == 1 and stride == 1:
        return x @ weight[:, :, 0, 0].T
    return np.einsum("hwijc,ocij->hwo", _windows(x, k, stride), weight, optimize=True)


def depthwise(x, weight, stride=1):
    """A depthwise convolution; ``weight`` is PyTorch's (channels, 1, k, k)."""
    return np.einsum("hwijc,cij->hwc", _windows(x, weight.shape[-1], stride), weight[:, 0], optimize=True)


def batch_norm(x, state, prefix):
    scale = state[f"{prefix}.weight"] / np.sqrt(state[f"{prefix}.running_var"] + EPSILON)
    return (x - state[f"{prefix}.running_mean"]) * scale + state[f"{prefix}.bias"]


def relu6(x):
    return np.clip(x, 0, 6)


def logits(state: dict, image: np.ndarray) -> np.ndarray:
    """ImageNet logits of one (size, size, 3) image with values in [0, 1]."""
    s = {k: np.asarray(v, np.float64) for k, v in state.items() if not k.endswith("num_batches_tracked")}
    x = (255.0 * image.astype(np.float64) - 127.0) / 128.0
    x = relu6(batch_norm(conv(x, s["_conv_stem.weight"], 2), s, "_bn0"))
    blocks = sorted({int(k.split(".")[1]) for k in s if k.startswith("_blocks.")})
    stage = -1
    for b in blocks:
        p = f"_blocks.{b}"
        inner = s[f"{p}._depthwise_conv.weight"].shape[0]
        out = s[f"{p}._project_conv.weight"].shape[0]
        channels_in = s[f"{p}._expand_conv.weight"].shape[1] if f"{p}._expand_conv.weight" in s else inner
        first = b == 0 or channels_in != out
        stage += first
        stride = STAGE_STRIDES[stage] if first else 1
        shortcut = x
        if f"{p}._expand_conv.weight" in s:
            x = relu6(batch_norm(conv(x, s[f"{p}._expand_conv.weight"]), s, f"{p}._bn0"))
        x = relu6(batch_norm(depthwise(x, s[f"{p}._depthwise_conv.weight"], stride), s, f"{p}._bn1"))
        x = batch_norm(conv(x, s[f"{p}._project_conv.weight"]), s, f"{p}._bn2")
        if stride == 1 and channels_in == out:
            x = x + shortcut
    x = relu6(batch_norm(conv(x, s["_conv_head.weight"]), s, "_bn1"))
    return x.mean(axis=(0, 1)) @ s["_fc.weight"].T + s["_fc.bias"]
