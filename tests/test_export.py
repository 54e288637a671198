"""Export: a SavedModel + labels.txt that reloads identically, a .zip, and TFLite that agrees."""

import io
import zipfile

import numpy as np
import pytest

from hubdemo import datasets, export, pipeline, training
from hubdemo.errors import HubDemoError


@pytest.fixture(scope="module")
def exported(colours_dir, extractor, tmp_path_factory):
    data = datasets.load_folder(colours_dir)
    run = training.TrainingRun(training.TrainConfig(epochs=3, batch_size=8, learning_rate=0.01))
    result = training.train(data, run.config, extractor.handle, run, extractor)
    folder = export.save(result.model, result.class_names, tmp_path_factory.mktemp("exports") / "colours")
    images = next(iter(pipeline.image_batches(list(data.files), result.image_size)))[0].numpy()
    return result, folder, images, result.model(images, training=False).numpy()


def test_export_reloads_with_identical_predictions(exported):
    result, folder, images, expected = exported
    assert (folder / "saved_model.pb").is_file()
    assert (folder / "labels.txt").read_text().splitlines() == ["blue", "green", "red"]
    assert export.reload_max_abs_diff(folder, images, expected) <= 1e-5
    restored, names = export.load(folder)
    assert names == result.class_names


def test_export_carries_the_hub_weights_and_needs_nothing_else(exported, tmp_path):
    _, folder, images, expected = exported
    moved = tmp_path / "elsewhere"
    with zipfile.ZipFile(io.BytesIO(export.zip_bytes(folder))) as archive:
        archive.extractall(moved)
    (inner,) = moved.iterdir()
    assert export.reload_max_abs_diff(inner, images, expected) <= 1e-5
    assert sum(f.stat().st_size for f in inner.rglob("*")) > 10e6, "the backbone's weights are inside"


def test_tflite_float_and_quantised_agree_with_keras(exported):
    _, folder, images, expected = exported
    float_bytes = export.to_tflite(folder)
    small_bytes = export.to_tflite(folder, quantize=True)
    assert len(small_bytes) < len(float_bytes) / 3
    for model_bytes in (float_bytes, small_bytes):
        lite = export.tflite_predictions(model_bytes, images)
        assert (lite.argmax(1) == expected.argmax(1)).mean() == 1.0
    np.testing.assert_allclose(export.tflite_predictions(float_bytes, images[:4]), expected[:4], atol=1e-4)


def test_an_existing_folder_is_not_overwritten(exported):
    result, folder, _, _ = exported
    with pytest.raises(HubDemoError, match="already exists"):
        export.save(result.model, result.class_names, folder)


def test_loading_a_folder_that_is_not_an_export_is_explained(tmp_path):
    with pytest.raises(HubDemoError, match="not an exported model"):
        export.load(tmp_path)


def test_usage_snippet_names_the_folder_and_input_size(exported):
    _, folder, _, _ = exported
    snippet = export.usage_snippet(folder, 224)
    assert f'tf.saved_model.load("{folder}")' in snippet and ".resize((224, 224))" in snippet
