"""The EfficientNet-Lite0 builder: argument checks, architecture facts, and real ImageNet predictions."""

import shutil

import numpy as np
import pytest

from hubdemo import images, labels, lite
from hubdemo.errors import HubDemoError


@pytest.fixture(scope="module")
def model():
    return lite.build_efficientnet_lite0()


def test_rejects_an_unknown_weights_value():
    with pytest.raises(HubDemoError, match="`weights`.*'imagenet'"):
        lite.build_efficientnet_lite0(weights="imagenet")


def test_rejects_bundled_weights_with_wrong_class_count():
    with pytest.raises(HubDemoError, match="num_classes`=5"):
        lite.build_efficientnet_lite0(5)


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
    features = lite.build_efficientnet_lite0(include_top=False, weights=None)
    assert features.output_shape == (None, lite.FEATURE_DIM)


def test_classifies_grace_hopper_as_military_uniform(model):
    image = images.load_for_model(images.sample_photo(), lite.DEFAULT_SIZE)
    logits = model(image[None], training=False).numpy()[0]
    assert labels.imagenet_labels(1000)[int(np.argmax(logits))] == "military uniform"


def test_refuses_weights_that_fail_the_hash_check(tmp_path):
    altered = tmp_path / "lite.pth"
    shutil.copy(lite.bundled_weights_path(), altered)
    with open(altered, "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x01\x02\x03\x04")
    blank = lite.build_efficientnet_lite0(weights=None)
    with pytest.raises(HubDemoError, match="SHA-256"):
        lite._load_bundled_weights(blank, altered)


def test_folding_batch_norm_keeps_the_logits(model):
    folded = lite.build_efficientnet_lite0(fold_batch_norm=True)
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in folded.layers)
    batch = np.stack([images.load_for_model(images.sample_photo(), lite.DEFAULT_SIZE),
                      np.random.default_rng(0).random((224, 224, 3), dtype=np.float32)])
    np.testing.assert_allclose(folded(batch, training=False), model(batch, training=False), atol=1e-4)


def test_folding_needs_the_bundled_weights():
    with pytest.raises(HubDemoError, match="`fold_batch_norm` needs the bundled weights"):
        lite.build_efficientnet_lite0(weights=None, fold_batch_norm=True)


# --- The family: Lite1 and Lite2 scale Lite0 -------------------------------------------------

FAMILY = {"efficientnet_lite0": (224, 16, 4.69e6), "efficientnet_lite1": (240, 21, 5.47e6),
          "efficientnet_lite2": (260, 21, 6.15e6)}  # Input size, blocks, parameters (the published figures).


def test_width_rounds_channels_to_multiples_of_eight_as_published():
    assert [lite.round_filters(f, 1.1) for f in (32, 16, 24, 40, 80, 112, 192, 320)] == [
        32, 16, 24, 48, 88, 120, 208, 352]
    assert [s["repeats"] for s in lite.stages("efficientnet_lite1")] == [1, 3, 3, 4, 4, 5, 1]  # First, last fixed.


@pytest.mark.parametrize("name", FAMILY)
def test_each_member_has_its_architecture_fixed_stem_and_head(name):
    size, blocks, params = FAMILY[name]
    model = lite.build_efficientnet_lite(name, weights=None)
    assert model.input_shape == (None, size, size, 3) and model.output_shape == (None, 1000)
    assert sum(layer.name.endswith("_dwconv") for layer in model.layers) == blocks
    assert model.get_layer("stem_conv").filters == 32 and model.get_layer("head_conv").filters == 1280
    assert abs(model.count_params() - params) < 0.01e6
    assert lite.build_efficientnet_lite(name, include_top=False, weights=None).output_shape == (None, 1280)


@pytest.mark.parametrize("name", FAMILY)
def test_each_member_agrees_with_an_independent_numpy_reference(name):
    from lite_reference import logits
    from hubdemo import torch_pickle
    size = FAMILY[name][0]
    model = lite.build_efficientnet_lite(name)
    state = torch_pickle.load_state_dict(lite.bundled_weights_path(name))
    photos = [images.load_for_model(images.sample_photo(), size),
              np.random.default_rng(1).random((size, size, 3), dtype=np.float32)]
    for photo in photos:
        reference = logits(state, photo)
        ours = model(photo[None], training=False).numpy()[0]
        np.testing.assert_allclose(ours, reference, atol=1e-4)


@pytest.mark.parametrize("name", FAMILY)
def test_each_member_calls_grace_hopper_a_military_uniform(name):
    model = lite.build_efficientnet_lite(name, fold_batch_norm=True)
    image = images.load_for_model(images.sample_photo(), FAMILY[name][0])
    top = np.argsort(model(image[None], training=False).numpy()[0])[::-1]
    assert labels.imagenet_labels(1000)[top[0]] == "military uniform"


def test_an_unknown_member_is_named_in_the_message():
    with pytest.raises(HubDemoError, match="efficientnet_lite9.*efficientnet_lite0, efficientnet_lite1"):
        lite.build_efficientnet_lite("efficientnet_lite9")
