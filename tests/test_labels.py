"""ImageNet labels: short names, 'background' first for 1001-output models."""

import pytest

from hubdemo.errors import HubDemoError
from hubdemo.labels import imagenet_labels


def test_thousand_outputs_are_imagenet_in_order():
    names = imagenet_labels(1000)
    assert len(names) == 1000
    assert names[0] == "tench" and names[652] == "military uniform"


def test_thousand_and_one_outputs_put_background_first():
    names = imagenet_labels(1001)
    assert names[0] == "background" and names[653] == "military uniform"


def test_other_output_counts_are_explained():
    with pytest.raises(HubDemoError, match="1280 values.*feature-vector"):
        imagenet_labels(1280)
