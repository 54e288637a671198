"""The catalogue and model loading: bundled SavedModels through hub.KerasLayer, and every way a handle fails."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from hubdemo import bundled, images, models
from hubdemo.errors import HubDemoError
from make_images import jpeg


def test_bundled_build_writes_two_hub_savedmodels(bundled_dir):
    for variant in ("classification", "feature_vector"):
        assert (bundled_dir / variant / "saved_model.pb").is_file()
        assert (bundled_dir / variant / "variables" / "variables.index").is_file()
    assert bundled.is_built()
    assert not list(bundled_dir.parent.glob(".*partial*")), "no temporary folder left behind"


def test_bundled_models_load_through_keras_layer(bundled_dir):
    from hubdemo.tf import tf
    batch = tf.zeros([2, 224, 224, 3])
    logits_layer, size = models.load_layer("bundled:efficientnet_lite0/classification")
    features_layer, _ = models.load_layer("bundled:efficientnet_lite0/feature_vector")
    assert size == 224
    assert logits_layer(batch).shape == (2, 1000)
    assert features_layer(batch).shape == (2, 1280)


def test_frozen_feature_layer_has_no_trainable_weights_and_fine_tuning_has_some(bundled_dir):
    from hubdemo.tf import tf
    frozen, _ = models.load_layer("bundled:efficientnet_lite0/feature_vector")
    tuned, _ = models.load_layer("bundled:efficientnet_lite0/feature_vector", trainable=True)
    batch = tf.random.uniform([2, 224, 224, 3])
    frozen(batch), tuned(batch, training=True)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) > 100
    assert len(tuned.trainable_weights) > 100  # Conv kernels and BatchNorm scales/offsets.


def test_interrupted_build_leaves_nothing_that_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))

    def crash_midway(folder, name):
        (folder / "classification").mkdir()
        (folder / "classification" / "saved_model.pb").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(bundled, "_build_into", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        bundled.ensure_built()
    assert not bundled.build_dir().exists() and not bundled.is_built()
    assert list(tmp_path.iterdir()) == []


def test_a_weak_best_guess_is_unsure_by_the_number_of_classes():
    assert models.unsure(0.19, 1000) and not models.unsure(0.36, 1000), "a rose called a candle; Grace Hopper"
    assert models.unsure(0.29, 5) and not models.unsure(0.31, 5), "1.5× chance with five classes"
    assert models.unsure(0.6, 2) and not models.unsure(0.8, 2), "two classes: 60% is nearly a coin"


def test_grace_hopper_is_a_military_uniform(classifier):
    (result,) = classifier.classify_files([(images.SAMPLE_NAME, images.sample_photo())])
    assert result.error is None
    assert result.predictions[0].label == "military uniform"
    assert len(result.predictions) == 5
    assert sum(p.probability for p in result.predictions) <= 1.0
    assert result.seconds > 0


def test_classifies_a_real_daisy(classifier, flower_photo):
    (result,) = classifier.classify_files([(flower_photo.name, flower_photo.read_bytes())], k=1)
    assert result.predictions[0].label == "daisy"


def test_a_bad_file_gets_its_own_message_and_the_good_ones_are_classified(classifier):
    results = classifier.classify_files([("a.jpg", jpeg()), ("bad.jpg", b"nope"), ("c.jpg", jpeg())], k=3)
    assert [r.name for r in results] == ["a.jpg", "bad.jpg", "c.jpg"]
    assert results[1].error and "not an image" in results[1].error and not results[1].predictions
    assert len(results[0].predictions) == 3 and results[0].predictions == results[2].predictions


def test_a_feature_vector_names_its_imagenet_twin():
    assert models.imagenet_twin("bundled:efficientnet_lite0/feature_vector") == \
        "bundled:efficientnet_lite0/classification"
    assert models.imagenet_twin("https://tfhub.dev/google/tf2-preview/mobilenet_v2/feature_vector/2") == \
        "https://tfhub.dev/google/tf2-preview/mobilenet_v2/classification/2"
    assert models.imagenet_twin("/some/other/model") == "bundled:efficientnet_lite0/classification"


def test_catalogue_has_the_tutorials_tf_hub_handles():
    handles = {spec.handle for spec in models.CATALOGUE}
    assert "https://tfhub.dev/google/tf2-preview/mobilenet_v2/classification/2" in handles
    assert "https://tfhub.dev/google/tf2-preview/mobilenet_v2/feature_vector/2" in handles
    assert models.catalogue("classification")[0].name == models.DEFAULT_CLASSIFIER


def test_unreachable_url_explains_what_works_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path))
    with pytest.raises(HubDemoError, match="Could not download.*bundled EfficientNet-Lite0"):
        models.load_module("https://hub.invalid/google/some-model/1")


def test_folder_without_a_savedmodel_is_explained(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(jpeg())
    with pytest.raises(HubDemoError, match="not a SavedModel folder"):
        models.load_module(str(tmp_path))


def test_missing_path_is_explained(tmp_path):
    with pytest.raises(HubDemoError, match="not a URL, a catalogue name .*efficientnet_lite0.* or an existing"):
        models.load_module(str(tmp_path / "nothing-here"))


def test_feature_vector_model_is_refused_as_a_classifier(bundled_dir):
    with pytest.raises(HubDemoError, match="1280 values.*not an ImageNet classifier"):
        models.ImageNetClassifier("bundled:efficientnet_lite0/feature_vector")


def test_model_that_does_not_take_images_is_refused(tmp_path):
    from hubdemo.tf import tf

    class Tabular(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 10], tf.float32)])
        def __call__(self, x):
            return x * 2.0

    tf.saved_model.save(Tabular(), str(tmp_path / "tabular"))
    with pytest.raises(HubDemoError, match=r"inputs of shape \[None, 10\], not images"):
        models.ImageNetClassifier(str(tmp_path / "tabular"))


def test_bundled_handle_must_name_a_known_variant():
    with pytest.raises(HubDemoError, match="Choose one of: bundled:efficientnet_lite0/classification"):
        models.load_module("bundled:efficientnet_lite0/segmentation")


def test_classifying_keeps_keras_3_out_of_the_process(bundled_dir):
    # Streamlit clears the Keras session after every run once `keras` is imported.
    script = (
        "import sys\n"
        "from hubdemo import images, models\n"
        "c = models.ImageNetClassifier('bundled:efficientnet_lite0/classification')\n"
        "c.classify_files([('g.jpg', images.sample_photo())])\n"
        "models.load_layer('bundled:efficientnet_lite0/feature_vector', trainable=True)\n"
        "assert 'keras' not in sys.modules, sorted(m for m in sys.modules if m.startswith('keras'))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_model_whose_call_takes_no_training_argument_still_classifies(tmp_path):
    from hubdemo.tf import tf

    class MeanColour(tf.Module):
        """1000 scores from the mean colour: a stand-in for a foreign TF2 classifier without `training`."""

        def __init__(self):
            self.w = tf.Variable(tf.random.stateless_normal([3, 1000], seed=[1, 2]))

        @tf.function(input_signature=[tf.TensorSpec([None, 224, 224, 3], tf.float32)])
        def __call__(self, images):
            return tf.reduce_mean(images, axis=[1, 2]) @ self.w

    tf.saved_model.save(MeanColour(), str(tmp_path / "mean_colour"))
    classifier = models.ImageNetClassifier(str(tmp_path / "mean_colour"))
    (result,) = classifier.classify_files([("a.jpg", jpeg())], k=2)
    assert len(result.predictions) == 2 and result.predictions[0].probability > 0


@pytest.mark.parametrize("name, size", [("efficientnet_lite1", 240), ("efficientnet_lite2", 260)])
def test_lite1_and_lite2_are_built_on_first_use_and_work_at_their_own_size(name, size, tmp_path, colours_dir):
    """Catalogue names, handles and every size that follows the model: features, training, export, TFLite."""
    from hubdemo import datasets, export, features, notebook, runs, training
    assert models.needs_build(models.resolve_handle(name)) == (not bundled.is_built(name))
    classifier = models.ImageNetClassifier(models.resolve_handle(name))
    assert bundled.is_built(name) and classifier.input_size == size == models.declared_input_size(classifier.handle)
    (result,) = classifier.classify_files([("grace_hopper.jpg", images.sample_photo())])
    assert result.predictions[0].label == "military uniform"
    extractor = features.FeatureExtractor(models.resolve_handle(f"{name}_features"))
    assert extractor.input_size == size and extractor.dim == 1280
    data = datasets.load_folder(colours_dir)
    run = runs.RunBook().new(runs.TrainConfig(epochs=3, batch_size=8, learning_rate=0.01),
                             feature_handle=extractor.handle, dataset_name=data.name, dataset_key=data.fingerprint)
    training.train(data, run, extractor)
    assert run.evaluation.accuracy == 1.0 and run.model.input_size == size
    report = export.export_run(run, tmp_path / "export")
    assert report.metadata["image_size"] == size and report.reload_max_abs_diff < 1e-5
    from hubdemo import explain, saved
    reopened = saved.open_folder(report.folder).classifier
    assert explain.gradcam_network(run.model) == explain.gradcam_network(reopened) == name, "Grad-CAM reads it"
    np.testing.assert_allclose(reopened.cam_weights[0], run.model.cam_weights[0], atol=1e-7)
    assert all(check.agree == check.checked for check in report.tflite)
    code = notebook.training_code(colours_dir, extractor.handle, run.config)
    assert f"IMAGE_SIZE = {size}" in code and f"efficientnet/lite{name[-1]}/feature-vector" in code
