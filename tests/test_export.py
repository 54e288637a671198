"""Export: every file of the export written, checked against the model, and downloadable."""

import io
import json
import zipfile

import numpy as np
import pytest

from hubdemo import export, pipeline, tflite
from hubdemo.errors import HubDemoError


@pytest.fixture(scope="module")
def check(colours_run):
    """The validation photos and the trained model's predictions on them."""
    images = next(iter(pipeline.image_batches(list(colours_run.evaluation.files), 224)))[0].numpy()
    return images, colours_run.model.probabilities(images)


def test_an_export_holds_every_file_a_user_needs(colours_export):
    folder, _ = colours_export
    names = {p.name for p in folder.iterdir()}
    assert {"saved_model.pb", "variables", "labels.txt", "model.tflite", "model_quant.tflite",
            "metadata.json"} <= names
    assert (folder / "labels.txt").read_text().splitlines() == ["blue", "green", "red"]


def test_metadata_says_what_made_the_model(colours_export, colours_run):
    folder, report = colours_export
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta == report.metadata
    assert meta["dataset"] == "colours" and meta["run"] == "colours · run 1"
    assert meta["class_names"] == ["blue", "green", "red"] and meta["image_size"] == 224
    assert meta["hub_handle"] == "bundled:efficientnet_lite0/feature_vector"
    assert meta["settings"] == colours_run.config.as_dict() and meta["settings"]["learning_rate"] == 0.01
    assert meta["val_accuracy"] == 1.0 and meta["validation_photos"] == 6
    assert meta["created"][:4].isdigit() and meta["created"].endswith("+00:00")
    import hubdemo
    assert meta["hubdemo_version"] == hubdemo.__version__
    assert meta["checks"]["reload_max_abs_diff"] == report.reload_max_abs_diff


def test_the_export_reloads_identically_and_tflite_agrees(colours_export, check):
    folder, report = colours_export
    images, expected = check
    assert report.reload_max_abs_diff <= 1e-5 and report.checked == 6
    assert export.reload_max_abs_diff(folder, images, expected) <= 1e-5
    assert [(c.file, c.agree, c.checked) for c in report.tflite] == [("model.tflite", 6, 6),
                                                                       ("model_quant.tflite", 6, 6)]
    float_bytes = (folder / "model.tflite").read_bytes()
    small_bytes = (folder / "model_quant.tflite").read_bytes()
    assert len(small_bytes) < len(float_bytes) / 3
    np.testing.assert_allclose(tflite.predictions(float_bytes, images[:4]), expected[:4], atol=1e-4)
    assert (tflite.predictions(small_bytes, images).argmax(1) == expected.argmax(1)).all()


def test_the_whole_export_zip_reloads_elsewhere(colours_export, check, tmp_path):
    folder, _ = colours_export
    images, expected = check
    with zipfile.ZipFile(io.BytesIO(export.zip_bytes(folder))) as archive:
        archive.extractall(tmp_path)
    (inner,) = tmp_path.iterdir()
    assert inner.name == folder.name
    assert export.reload_max_abs_diff(inner, images, expected) <= 1e-5
    assert sum(f.stat().st_size for f in inner.rglob("*")) > 10e6, "the backbone's weights are inside"


def test_each_tflite_downloads_with_its_labels(colours_export):
    folder, _ = colours_export
    for name in ("model.tflite", "model_quant.tflite"):
        with zipfile.ZipFile(io.BytesIO(export.tflite_zip_bytes(folder, name))) as archive:
            assert sorted(archive.namelist()) == ["labels.txt", name]
            assert archive.read(name) == (folder / name).read_bytes()
            assert archive.read("labels.txt").decode().splitlines() == ["blue", "green", "red"]


def test_the_run_remembers_its_export_to_reopen_after_a_restart(colours_export, colours_run):
    folder, _report = colours_export
    assert colours_run.export_folder == str(folder)
    assert colours_run.as_record()["export_folder"] == str(folder)


def test_an_existing_folder_is_not_overwritten(colours_export, colours_run):
    folder, _ = colours_export
    with pytest.raises(HubDemoError, match="already exists"):
        export.export_run(colours_run, folder)


def test_a_run_without_its_model_says_to_train_again(colours_run, tmp_path):
    from hubdemo import runs
    forgotten = runs.Run(colours_run.config, number=4)
    with pytest.raises(HubDemoError, match="Run 4 has no model in memory"):
        export.export_run(forgotten, tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_a_failed_export_leaves_nothing_behind(colours_run, tmp_path, monkeypatch):
    def broken(folder, *, quantize=False):
        raise HubDemoError("TFLite conversion failed: no space left on device")
    monkeypatch.setattr(tflite, "convert", broken)
    with pytest.raises(HubDemoError, match="no space left"):
        export.export_run(colours_run, tmp_path / "half")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_gets_a_clear_message_and_leaves_nothing_behind(colours_run, tmp_path, monkeypatch):
    import errno
    from pathlib import Path
    real_write = Path.write_bytes

    def full(self, data):
        if self.suffix == ".tflite":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)
    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(HubDemoError, match="could not be written to .*: the disk is full. Free some space"):
        export.export_run(colours_run, tmp_path / "full")
    assert list(tmp_path.iterdir()) == []
