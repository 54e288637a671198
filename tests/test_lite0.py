"""The EfficientNet-Lite0 builder: argument checks, architecture facts, and real ImageNet predictions."""

import shutil

import numpy as np
import pytest

from hubdemo import images, labels, lite0
from hubdemo.errors import HubDemoError


@pytest.fixture(scope="module")
def model():
    return lite0.build_efficientnet_lite0()


def test_rejects_an_unknown_weights_value():
    with pytest.raises(HubDemoError, match="`weights`.*'imagenet'"):
        lite0.build_efficientnet_lite0(weights="imagenet")


def test_rejects_bundled_weights_with_wrong_class_count():
    with pytest.raises(HubDemoError, match="num_classes`=5"):
        lite0.build_efficientnet_lite0(5)


def test_has_the_lite0_architecture(model):
    names = [layer.name for layer in model.layers]
    assert sum(n.endswith("_dwconv") for n in names) == 16
    assert not any("se_" in n or "swish" in n for n in names)
    bns = [layer for layer in model.layers if type(layer).__name__ == "BatchNormalization"]
    assert {bn.epsilon for bn in bns} == {1e-3}
    assert all(layer.max_value == 6.0 for layer in model.layers if type(layer).__name__ == "ReLU")
    assert model.output_shape == (None, 1000)
    assert 4.6e6 < model.count_params() < 4.7e6


def test_without_top_outputs_1280_features():
    features = lite0.build_efficientnet_lite0(include_top=False, weights=None)
    assert features.output_shape == (None, lite0.FEATURE_DIM)


def test_classifies_grace_hopper_as_military_uniform(model):
    image = images.load_for_model(images.sample_photo(), lite0.DEFAULT_SIZE)
    logits = model(image[None], training=False).numpy()[0]
    assert labels.imagenet_labels(1000)[int(np.argmax(logits))] == "military uniform"


def test_refuses_weights_that_fail_the_hash_check(tmp_path):
    altered = tmp_path / "lite0.pth"
    shutil.copy(lite0.bundled_weights_path(), altered)
    with open(altered, "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x01\x02\x03\x04")
    blank = lite0.build_efficientnet_lite0(weights=None)
    with pytest.raises(HubDemoError, match="SHA-256"):
        lite0._load_bundled_weights(blank, altered)


def test_folding_batch_norm_keeps_the_logits(model):
    folded = lite0.build_efficientnet_lite0(fold_batch_norm=True)
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in folded.layers)
    batch = np.stack([images.load_for_model(images.sample_photo(), lite0.DEFAULT_SIZE),
                      np.random.default_rng(0).random((224, 224, 3), dtype=np.float32)])
    np.testing.assert_allclose(folded(batch, training=False), model(batch, training=False), atol=1e-4)


def test_folding_needs_the_bundled_weights():
    with pytest.raises(HubDemoError, match="`fold_batch_norm` needs the bundled weights"):
        lite0.build_efficientnet_lite0(weights=None, fold_batch_norm=True)
