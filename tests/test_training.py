"""Training: live statistics, Stop, the cached-feature path against the full model, evaluation, settings."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from hubdemo import charts, datasets, evaluation, models, training
from hubdemo.errors import HubDemoError
from hubdemo.runs import Run, TrainConfig

FEATURES = "bundled:efficientnet_lite0/feature_vector"


@pytest.fixture(scope="module")
def colours(colours_dir):
    return datasets.load_folder(colours_dir)


def new_run(dataset, on_epoch_end=None, feature_handle=FEATURES, **settings) -> Run:
    return Run(TrainConfig(**settings), feature_handle=feature_handle, dataset_name=dataset.name,
               dataset_key=dataset.fingerprint, on_epoch_end=on_epoch_end)


@pytest.fixture(scope="module")
def trained(colours, extractor):
    run = new_run(colours, epochs=4, batch_size=8, learning_rate=0.01)
    result = training.train(colours, run, extractor)
    return run, result


def test_every_batch_and_epoch_is_recorded_for_the_charts(trained):
    run, result = trained
    snap = run.snapshot()
    steps = -(-30 // 8)  # 36 photos, 2 per class held back for validation: 30 train in batches of 8.
    assert snap.status == "done" and snap.fraction_done == 1.0
    assert [b["step"] for b in snap.batches] == list(range(1, 4 * steps + 1))
    assert [e["epoch"] for e in snap.epochs] == [1, 2, 3, 4]
    assert all({"loss", "accuracy", "val_loss", "val_accuracy"} <= set(e) for e in snap.epochs)
    assert snap.batches[-1]["loss"] < snap.batches[0]["loss"]
    spec = charts.training_curve(snap.batches, snap.epochs, "loss").to_dict()
    (rows,) = spec["datasets"].values()
    assert len(rows) == len(snap.batches) + len(snap.epochs)
    assert rows[-1] == {"step": 4 * steps, "value": snap.epochs[-1]["val_loss"], "series": "validation (each epoch)"}


def test_the_head_learns_the_colours(trained):
    run, result = trained
    assert run.model is result and run.evaluation.accuracy == 1.0 and run.seconds > 0
    assert result.labels == ("blue", "green", "red") and len(run.evaluation.files) == 6


def test_cached_features_and_full_model_give_the_same_predictions(trained):
    run, result = trained
    files = list(run.evaluation.files)
    fast, _ = result.file_probabilities(files)  # Cached features through the head.
    full, _ = models.TransferClassifier.file_probabilities(result, files)  # The exported Sequential on images.
    assert fast.shape == (6, 3)
    np.testing.assert_allclose(fast, full, atol=1e-5)


def test_stop_mid_training_keeps_a_usable_model(colours, extractor):
    run = new_run(colours, epochs=50, batch_size=4,
                  on_epoch_end=lambda record: run.stop() if record["epoch"] == 2 else None)
    result = training.train(colours, run, extractor)
    snap = run.snapshot()
    assert snap.status == "stopped" and "keeps what it learned" in snap.message
    assert len(snap.batches) == 2 * 8 + 1  # Ends after the batch it was on, in epoch 3.
    assert [e["epoch"] for e in snap.epochs] == [1, 2, 3] and snap.epochs[-1]["step"] == 17
    probs, _ = result.file_probabilities(list(run.evaluation.files))
    assert probs.shape == (6, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_stop_while_extracting_features_ends_before_training(colours, bundled_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))  # A cold feature cache.
    run = new_run(colours)
    run.stop()
    assert training.train(colours, run) is None
    assert run.snapshot().status == "stopped" and run.snapshot().batches == []


def test_background_training_reports_through_its_run(colours, extractor):
    run = training.start(colours, new_run(colours, epochs=2, batch_size=8), extractor)
    run.thread.join(120)
    assert not run.running and run.snapshot().status == "done" and run.model is not None


def test_background_training_errors_become_a_message(colours, extractor):
    run = Run(TrainConfig(), feature_handle="/no/such/model")
    training.start(colours, run, extractor)
    run.thread.join(60)
    assert run.snapshot().status == "error" and "No model at '/no/such/model'" in run.snapshot().message


def test_augmentation_and_dropout_train_through_the_full_model(colours):
    run = new_run(colours, epochs=1, batch_size=8, augment=True, dropout=0.2)
    result = training.train(colours, run)
    assert result.head is None and result.extractor is None and run.snapshot().status == "done"
    assert [layer.name for layer in result.model.layers][-2:] == ["dropout", "classifier"]
    assert len(run.evaluation.files) == 6


def test_augmented_copies_are_the_photo_turned_mirrored_and_zoomed_a_little():
    """The copies the page shows are the training's augmentation: each changed, each still the photo (or its mirror
    image), the same for the same seed."""
    photo = np.zeros((64, 64, 3), np.float32)
    photo[:, :32, 0] = 1.0  # Red on the left, blue on the right: a mirror image swaps them.
    photo[:, 32:, 2] = 1.0
    photo[20:30, 10:20] = 1.0  # A white square, off the axis of symmetry.
    copies = training.augmented_copies(photo, count=8, seed=3)
    assert copies.shape == (8, 64, 64, 3) and copies.min() >= 0 and copies.max() <= 1

    def likeness(a, b):
        return np.corrcoef(a.ravel(), b.ravel())[0, 1]
    mirrored = photo[:, ::-1]
    for copy in copies:
        assert max(likeness(copy, photo), likeness(copy, mirrored)) > 0.6, "turned and zoomed a little, not scrambled"
        assert np.abs(copy - photo).mean() > 0.005, "every copy differs from the photo"
    flipped = [likeness(c, mirrored) > likeness(c, photo) for c in copies]
    assert any(flipped) and not all(flipped), "mirrored half the time"
    assert np.array_equal(copies, training.augmented_copies(photo, count=8, seed=3))
    assert not np.array_equal(copies, training.augmented_copies(photo, count=8, seed=4))


@pytest.mark.parametrize("setting, value", [("epochs", 0), ("learning_rate", 5.0), ("validation_split", 0.9),
                                            ("dropout", 1.0)])
def test_settings_out_of_range_are_named(setting, value):
    with pytest.raises(HubDemoError, match=f"`{setting}` must be between"):
        TrainConfig(**{setting: value}).check()


def test_parameter_summary_counts_frozen_and_trainable(extractor):
    rows = training.parameter_summary(extractor.layer, 1280, 5, TrainConfig(dropout=0.0))
    assert rows[-1] == {"Layer": "Dense (softmax)", "Output": "(None, 5)", "Parameters": 6405, "Trainable": 6405}
    assert rows[0]["Trainable"] == 0 and 3_000_000 < rows[0]["Parameters"] < 3_600_000
    tuned = training.parameter_summary(extractor.layer, 1280, 5, TrainConfig(fine_tune=True))
    assert 3_000_000 < tuned[0]["Trainable"] < tuned[0]["Parameters"]  # BatchNorm statistics stay frozen.


def test_features_are_cached_on_disk_by_content(colours_dir, tmp_path, monkeypatch, bundled_dir):
    from hubdemo.features import FeatureExtractor
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    files = sorted((colours_dir / "red").glob("*.png"))[:3]
    first, skipped = FeatureExtractor(FEATURES).extract(files)
    assert not skipped and len(list((tmp_path / "features").rglob("*.npy"))) == 3
    renamed = tmp_path / "renamed.png"
    renamed.write_bytes(files[0].read_bytes())
    fresh = FeatureExtractor(FEATURES)  # Empty memory: everything must come from disk.
    fresh._features = None  # The model is not run again: calling it would fail.
    again, _ = fresh.extract([*files, renamed])
    np.testing.assert_array_equal(again[:3], first)
    np.testing.assert_array_equal(again[3], first[0])


def test_a_cache_that_cannot_be_written_only_costs_speed(colours_dir, tmp_path, bundled_dir):
    from hubdemo.features import FeatureExtractor
    files = sorted((colours_dir / "red").glob("*.png"))[:2]
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    extractor = FeatureExtractor(FEATURES)
    extractor._disk = blocker / "features"  # mkdir fails, as on a full or read-only disk.
    vectors, skipped = extractor.extract(files)
    assert not skipped and vectors.shape == (2, extractor.dim) and np.abs(vectors).sum() > 0
    assert not list(tmp_path.rglob("*.tmp"))


def test_evaluation_counts_confusion_per_class_and_mistakes():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    ev = evaluation.evaluate(probs, [0, 1, 1, 1], ("cat", "dog"), ["a", "b", "c", "d"])
    assert ev.accuracy == 0.75 and ev.confusion.tolist() == [[1, 0], [1, 2]]
    assert ev.per_class == {"cat": 1.0, "dog": pytest.approx(2 / 3)}
    assert [(m.file.name, m.true, m.predicted) for m in ev.mistakes] == [("c", "dog", "cat")]
    assert [v.file.name for v in ev.cell(1, 1)] == ["b", "d"] and all(v.correct for v in ev.cell(1, 1))
    assert [v.correct for v in ev.verdicts] == [True, True, False, True]


def test_a_dataset_is_evaluated_by_class_name_whatever_the_models_class_order(trained, colours):
    import dataclasses
    run, result = trained
    # The same photos, but the dataset lists its classes in another order than the model's outputs.
    order = ("red", "blue", "green")
    relabel = [order.index(colours.class_names[label]) for label in colours.labels]
    shuffled = dataclasses.replace(colours, class_names=order, labels=tuple(relabel))
    ev, kept = evaluation.evaluate_dataset(result, shuffled, run_validation := np.array([0, 12, 24]))
    assert ev.class_names == result.labels and kept.tolist() == run_validation.tolist()
    assert [v.true for v in ev.verdicts] == [colours.class_names[colours.labels[i]] for i in run_validation]
    other = dataclasses.replace(colours, class_names=("blue", "green", "purple"))
    with pytest.raises(HubDemoError, match="does not know the dataset's classes purple"):
        evaluation.evaluate_dataset(result, other)


def test_training_and_exporting_keep_keras_3_out_of_the_process(colours_dir, bundled_dir, tmp_path):
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hubdemo import datasets, export, runs, saved, training\n"
        f"data = datasets.load_folder({str(colours_dir)!r})\n"
        "run = runs.Run(runs.TrainConfig(epochs=1), feature_handle='bundled:efficientnet_lite0/feature_vector')\n"
        "training.train(data, run)\n"
        f"report = export.export_run(run, Path({str(tmp_path / 'out')!r}))\n"
        "saved.open_folder(report.folder).classifier.probabilities(__import__('numpy').zeros((1, 224, 224, 3)))\n"
        "assert 'keras' not in sys.modules, sorted(m for m in sys.modules if m.startswith('keras'))\n")
    done = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_fine_tuning_trains_the_backbone_too(colours):
    run = new_run(colours, epochs=1, batch_size=8, learning_rate=1e-5, fine_tune=True)
    result = training.train(colours, run)
    backbone = result.model.layers[0]
    assert backbone.trainable and len(backbone.trainable_weights) > 100
    from hubdemo import models
    fresh, _ = models.load_layer(FEATURES)
    tuned = {v.name: v.numpy() for v in backbone.resolved_object.trainable_variables}
    original = {v.name: v.numpy() for v in fresh.resolved_object.trainable_variables}
    assert any(not np.array_equal(tuned[name], original[name]) for name in original), "the backbone moved"
    assert run.snapshot().status == "done" and len(run.snapshot().batches) == 4


def test_from_scratch_trains_the_same_network_from_random_weights(colours, bundled_dir):
    run = new_run(colours, epochs=1, batch_size=8, from_scratch=True)
    result = training.train(colours, run)
    assert run.snapshot().status == "done" and len(run.snapshot().batches) == 4 and run.evaluation is not None
    backbone = result.model.layers[0]
    assert backbone.name == "efficientnet_lite0" and backbone.trainable
    from hubdemo.lite import build_efficientnet_lite0
    imagenet = build_efficientnet_lite0(include_top=False)
    stem = backbone.get_layer("stem_conv").get_weights()[0]
    assert not np.allclose(stem, imagenet.get_layer("stem_conv").get_weights()[0], atol=0.05), "not ImageNet's"
    assert result.cam_weights is None, "Grad-CAM reads ImageNet's network, not this one"


def test_from_scratch_builds_the_network_that_was_chosen(colours):
    run = new_run(colours, epochs=1, batch_size=12, from_scratch=True,
                  feature_handle="bundled:efficientnet_lite1/feature_vector")
    result = training.train(colours, run)
    assert run.snapshot().status == "done" and result.input_size == 240
    assert result.model.layers[0].name == "efficientnet_lite1" and result.cam_network == ""
    assert training.whole_network_seconds(600, 5, "efficientnet_lite1") > training.whole_network_seconds(600, 5)


def test_from_scratch_needs_the_bundled_network(colours):
    run = Run(TrainConfig(from_scratch=True), feature_handle="https://tfhub.dev/some/feature_vector/1")
    with pytest.raises(HubDemoError, match="needs one of the bundled EfficientNet-Lite networks"):
        training.train(colours, run)
