"""Opening an export again: from a folder or a .zip, with one clear message for each way it can be broken."""

import json
import shutil

import pytest

from hubdemo import export, paths, saved
from hubdemo.errors import HubDemoError
from make_images import colour_photo, zip_of


@pytest.fixture
def copy_of(colours_export, tmp_path):
    """A fresh copy of the colours export, to break."""
    folder, _ = colours_export
    copy = tmp_path / "export"
    shutil.copytree(folder, copy)
    return copy


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path / "cache"))
    return paths.workspace_dir()


def test_a_reopened_export_predicts_with_its_own_class_names(colours_export):
    folder, _ = colours_export
    opened = saved.open_folder(folder)
    assert opened.class_names == ("blue", "green", "red") and opened.image_size == 224
    assert opened.title.startswith("colours · run 1 (saved ")
    (result,) = opened.classifier.classify_files([("shot.png", colour_photo((220, 40, 40), seed=5))], k=3)
    assert result.predictions[0].label == "red" and result.predictions[0].probability > 0.5
    assert {p.label for p in result.predictions} == {"blue", "green", "red"}


def test_a_reopened_export_gives_the_same_probabilities_as_the_trained_model(colours_export, colours_run):
    import numpy as np
    folder, _ = colours_export
    files = list(colours_run.evaluation.files)
    mine, _ = colours_run.model.file_probabilities(files)
    again, _ = saved.open_folder(folder).classifier.file_probabilities(files)
    np.testing.assert_allclose(again, mine, atol=1e-5)


def test_an_uploaded_zip_opens_from_the_workspace(colours_export, workspace):
    folder, _ = colours_export
    opened = saved.open_zip(export.zip_bytes(folder), "colours.zip")
    assert opened.class_names == ("blue", "green", "red")
    assert opened.folder.is_relative_to(workspace) and opened.folder.name == folder.name
    again = saved.open_zip(export.zip_bytes(folder), "colours.zip")  # Same content: same folder, no copy.
    assert again.folder == opened.folder and len(list(saved.extracted_dir().iterdir())) == 1


def test_an_export_without_metadata_from_an_older_app_still_opens(copy_of):
    (copy_of / "metadata.json").unlink()
    opened = saved.open_folder(copy_of)
    assert opened.class_names == ("blue", "green", "red") and opened.image_size == 224
    assert opened.title == "export (saved)"


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "labels.txt").unlink(), "has no labels.txt, so its outputs cannot be named"),
    (lambda f: (f / "labels.txt").write_text("blue\ngreen\nred\npurple\n"),
     "labels.txt .* and metadata.json .* disagree about the classes"),
    (lambda f: (f / "labels.txt").write_text("red\n"), "names 1 class"),
    (lambda f: (f / "labels.txt").write_text("red\nred\nblue\n"), "names red more than once"),
    (lambda f: (f / "labels.txt").write_bytes(b"\xff\xfe\xfa\n"), "cannot be read as text"),
    (lambda f: (f / "metadata.json").write_text("{not json"), "metadata.json in 'export' is damaged"),
    (lambda f: (f / "saved_model.pb").unlink(), "is not an exported model: there is no saved_model.pb"),
    (lambda f: (f / "saved_model.pb").write_bytes(b"garbage"), "could not be loaded as a SavedModel"),
    (lambda f: shutil.rmtree(f / "variables"), "could not be loaded as a SavedModel"),
])
def test_a_broken_export_folder_gets_one_clear_message(copy_of, damage, message):
    damage(copy_of)
    with pytest.raises(HubDemoError, match=message):
        saved.open_folder(copy_of)


def test_labels_that_do_not_match_the_models_outputs_are_refused(copy_of):
    (copy_of / "metadata.json").unlink()  # Nothing else to compare the labels with.
    (copy_of / "labels.txt").write_text("blue\ngreen\nred\npurple\n")
    with pytest.raises(HubDemoError, match="The model gives 3 outputs per photo, but labels.txt names 4 classes"):
        saved.open_folder(copy_of)


def test_a_missing_folder_is_explained(tmp_path):
    with pytest.raises(HubDemoError, match="No folder at"):
        saved.open_folder(tmp_path / "nowhere")


def test_a_hostile_zip_is_refused_before_anything_is_written(workspace, tmp_path):
    evil = zip_of({"model/saved_model.pb": b"x", "../../escaped.txt": b"gotcha"})
    with pytest.raises(HubDemoError, match="outside its own folder"):
        saved.open_zip(evil, "evil.zip")
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not saved.extracted_dir().exists() or not list(saved.extracted_dir().iterdir())


def test_a_zip_without_an_export_is_explained_and_not_kept(workspace):
    photos = zip_of({"daisy/1.jpg": colour_photo((255, 255, 255), 1), "roses/1.jpg": colour_photo((200, 0, 0), 2)})
    with pytest.raises(HubDemoError, match="photos.zip holds no exported model"):
        saved.open_zip(photos, "photos.zip")
    assert list(saved.extracted_dir().iterdir()) == []


def test_a_zip_with_a_broken_export_is_explained_and_not_kept(copy_of, workspace):
    (copy_of / "labels.txt").unlink()
    with pytest.raises(HubDemoError, match="has no labels.txt"):
        saved.open_zip(export.zip_bytes(copy_of), "broken.zip")
    assert list(saved.extracted_dir().iterdir()) == []


def test_only_the_newest_uploaded_exports_are_kept(workspace):
    import os
    saved.extracted_dir().mkdir(parents=True)
    for i in range(saved.KEEP_EXTRACTED + 3):
        old = saved.extracted_dir() / f"old{i:02d}"
        old.mkdir()
        os.utime(old, (1000 + i, 1000 + i))
    saved._prune(saved.extracted_dir(), saved.KEEP_EXTRACTED)
    assert sorted(p.name for p in saved.extracted_dir().iterdir()) == [
        f"old{i:02d}" for i in range(3, saved.KEEP_EXTRACTED + 3)]


def test_is_export_tells_an_export_from_a_plain_savedmodel(colours_export, bundled_dir):
    folder, _ = colours_export
    assert saved.is_export(folder)
    assert not saved.is_export(bundled_dir / "classification")
    assert json.loads((folder / "metadata.json").read_text())["format"] == "hubdemo-export"
