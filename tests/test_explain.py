"""Heatmaps: each method points at the part of the photo the model uses, in the agreed shape and range."""

import json

import numpy as np
import pytest

from hubdemo import explain, images
from hubdemo.errors import HubDemoError


@pytest.fixture(scope="module")
def network(bundled_dir):
    return explain.CamNetwork()


def beside_grey(size: int = 224) -> np.ndarray:
    """The tutorial's photo on the left half of the input, plain grey on the right: the evidence is all left."""
    photo = images.load_for_model(images.sample_photo(), size)
    half = images.from_array((photo * 255).astype(np.uint8), size // 2)
    image = np.full((size, size, 3), explain.GREY, np.float32)
    image[size // 4:size // 4 + size // 2, :size // 2] = half
    return image[None]


def heat_on_photo_and_grey(heat: np.ndarray) -> tuple[float, float]:
    """The mean heat on the photo of :func:`beside_grey`, and on its grey half (a margin: blurs spill a little)."""
    size = heat.shape[0]
    return heat[size // 4:size // 4 + size // 2, :size // 2].mean(), heat[:, size * 9 // 16:].mean()


@pytest.fixture(scope="module")
def hopper_beside_grey():
    return beside_grey()


@pytest.mark.parametrize("method", explain.METHODS)
def test_the_heat_sits_on_the_photo_not_on_the_grey(classifier, network, hopper_beside_grey, method):
    (heatmap,) = explain.explain(classifier, hopper_beside_grey, method=method, network=network)
    heat = heatmap.heat
    assert heat.shape == (224, 224) and heat.dtype == np.float32 and heat.min() >= 0 and heat.max() == 1
    photo, grey = heat_on_photo_and_grey(heat)
    assert photo > 3 * grey, f"{method}: {photo:.3f} on the photo, {grey:.3f} on the grey"


@pytest.mark.parametrize("name, size", [("efficientnet_lite1", 240), ("efficientnet_lite2", 260)])
def test_gradcam_reads_lite1_and_lite2_inside_at_their_own_size(name, size, bundled_dir):
    from hubdemo import models
    classifier = models.ImageNetClassifier(models.resolve_handle(name))
    assert explain.gradcam_network(classifier) == name and explain.methods_for(classifier)[0] == "gradcam"
    network = explain.CamNetwork(name)
    (fine, coarse), _probs = network.heats(beside_grey(size), *network.imagenet_head, [0])
    assert (fine.shape[1:], coarse.shape[1:]) == ((-(-size // 8),) * 2, (-(-size // 16),) * 2), "1/8 and 1/16 maps"
    (heatmap,) = explain.explain(classifier, beside_grey(size), network=network)
    assert heatmap.method == "gradcam" and heatmap.heat.shape == (size, size) and heatmap.heat.max() == 1
    photo, grey = heat_on_photo_and_grey(heatmap.heat)
    assert photo > 3 * grey, f"{name}: {photo:.3f} on the photo, {grey:.3f} on the grey"
    (rebuilt,) = explain.explain(classifier, beside_grey(size), network=explain.CamNetwork())  # Lite0's: rebuilt.
    np.testing.assert_allclose(rebuilt.heat, heatmap.heat, atol=1e-4)


@pytest.mark.parametrize("method", explain.METHODS)
def test_greying_the_hottest_cells_hurts_more_than_random_ones_and_inverted_heat_does_not(classifier, network,
                                                                                         method):
    image = images.load_for_model(images.sample_photo(), 224)
    (heatmap,) = explain.explain(classifier, image[None], method=method, network=network)
    hot, random = explain.faithfulness(classifier, image, heatmap.heat, heatmap.index)
    cold, _ = explain.faithfulness(classifier, image, 1 - heatmap.heat, heatmap.index)
    assert hot < random < cold, f"{method}: hottest {hot:.3f}, random {random:.3f}, coldest {cold:.3f}"


def test_a_heatmap_names_what_it_explains(classifier, network):
    image = images.load_for_model(images.sample_photo(), 224)[None]
    (top,) = explain.explain(classifier, image, network=network)
    assert (top.label, top.method) == ("military uniform", "gradcam") and 0.3 < top.probability < 0.5
    (other,) = explain.explain(classifier, image, network=network, classes=[classifier.labels.index("suit")])
    assert other.label == "suit" and other.probability < top.probability
    assert not np.array_equal(other.heat, top.heat), "another class, another reason"
    # Live video's Grad-CAM, for classes its reading knows already: the same heat, without naming them again.
    (live_heat,) = explain.gradcam_heats(classifier, image, [top.index], network)
    np.testing.assert_allclose(live_heat, top.heat, atol=1e-6)


def test_your_trained_head_is_explained_by_gradcam_and_a_fine_tuned_one_only_by_the_others(colours_run, network):
    from make_images import colour_photo
    red = images.load_for_model(colour_photo((220, 40, 40), seed=8), 224)[None]
    assert explain.methods_for(colours_run.model) == explain.METHODS
    (heatmap,) = explain.explain(colours_run.model, red, network=network)
    assert heatmap.label == "red" and heatmap.method == "gradcam" and heatmap.heat.max() == 1

    class FineTuned:  # What a fine-tuned run's model looks like to explain(): no weights to read inside.
        labels, input_size, cam_weights = colours_run.model.labels, 224, None
        probabilities = colours_run.model.probabilities
    assert explain.methods_for(FineTuned()) == ("occlusion", "integrated-gradients")
    with pytest.raises(HubDemoError, match="Use occlusion or integrated gradients"):
        explain.explain(FineTuned(), red, method="gradcam", network=network)


def test_a_reopened_export_keeps_gradcam(colours_export, colours_run):
    from hubdemo import saved
    reopened = saved.open_folder(colours_export[0]).classifier
    kernel, bias = reopened.cam_weights
    assert kernel.shape == (1280, 3) and bias.shape == (3,)
    np.testing.assert_allclose(kernel, colours_run.model.cam_weights[0], atol=1e-7)


def test_an_unknown_method_is_named(classifier):
    with pytest.raises(HubDemoError, match="Unknown method 'lime'. Choose one of: gradcam, occlusion"):
        explain.explain(classifier, np.zeros((1, 224, 224, 3)), method="lime")


def test_the_overlay_keeps_the_photo_and_colours_the_heat():
    photo = np.full((48, 64, 3), 200, np.uint8)
    heat = np.zeros((224, 224), np.float32)
    heat[:, 112:] = 1.0  # Hot on the right half.
    out = explain.overlay(photo, heat)
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8
    assert out[:, 40:, 0].mean() > out[:, :24, 0].mean() + 25, "red where it is hot"
    assert out[:, :24, 2].mean() > out[:, 40:, 2].mean() + 25, "blue where it is cold"


def test_cli_explain_writes_a_heat_array_and_a_picture_per_photo(tmp_path, bundled_dir):
    from test_cli import run_cli
    (tmp_path / "hopper.jpg").write_bytes(images.sample_photo())
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a photo")
    done = run_cli("explain", str(tmp_path / "hopper.jpg"), str(tmp_path / "broken.jpg"), "--method", "occlusion",
                   "--out", str(tmp_path / "out"), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    hopper, broken = json.loads(done.stdout)
    assert hopper["label"] == "military uniform" and hopper["method"] == "occlusion" and hopper["seconds"] > 0
    assert set(hopper) >= {"file", "label", "probability", "method", "seconds"} and "error" in broken
    heat = np.load(tmp_path / "out" / "hopper.npy")
    assert heat.shape == (224, 224) and 0 <= heat.min() and heat.max() == 1
    from PIL import Image
    assert Image.open(tmp_path / "out" / "hopper.png").size == (512, 600)  # The photo's own shape.
