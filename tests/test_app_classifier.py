"""AppTest of the classifier page: the sample on first open, uploads, camera, bad files, bad handles."""

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from hubdemo import images
from make_images import png

TIMEOUT = 120  # The first run imports TensorFlow and loads the model.


@pytest.fixture
def app(bundled_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def headings(at):
    return [m.value for m in at.markdown if m.value.startswith("### ")]


def test_first_open_shows_grace_hopper_as_military_uniform(app):
    assert headings(app)[0].startswith("### military uniform")
    assert any("Grace Hopper" in c.value for c in app.caption)
    assert not app.error


def test_uploaded_photos_each_get_predictions_and_a_bad_file_its_own_message(app, flower_photo):
    uploader = app.file_uploader(key="uploads")
    uploader.upload("daisy.jpg", flower_photo.read_bytes(), "image/jpeg")
    uploader.upload("notes.png", b"this is text", "image/png")
    uploader.upload("gradient.png", png(), "image/png")
    app.run()
    assert not app.exception
    assert headings(app)[0].startswith("### daisy") and len(headings(app)) == 2
    assert [e.value for e in app.error] == [
        "notes.png is not an image that can be read. Use a JPEG, PNG, HEIC, WebP, GIF, BMP or TIFF file."]
    assert not any("Grace Hopper" in c.value for c in app.caption), "the sample is only for an empty page"


def test_camera_photo_is_classified(app):
    app.toggle(key="use_camera").set_value(True).run()
    app.camera_input(key="camera").upload("shot.jpg", images.sample_photo())
    app.run()
    assert not app.exception
    assert headings(app) == [headings(app)[0]] and headings(app)[0].startswith("### military uniform")


def test_unusable_model_handle_shows_an_error_and_no_traceback(app, tmp_path):
    app.selectbox(key="classifier_model").select("Other: a TF Hub URL or a SavedModel folder…").run()
    assert any("Type a model handle" in i.value for i in app.info)
    app.text_input(key="classifier_handle").input(str(tmp_path)).run()
    assert not app.exception
    assert "not a SavedModel folder" in app.error[0].value
    app.text_input(key="classifier_handle").input("https://hub.invalid/model/1").run()
    assert "Could not download" in app.error[0].value and not app.exception


def test_reruns_reuse_the_loaded_model_and_earlier_results(bundled_dir, monkeypatch):
    import streamlit as st

    from hubdemo import models
    st.cache_resource.clear()
    st.cache_data.clear()
    loads, forward_passes = [], []
    load, classify_files = models.Classifier.__init__, models.Classifier.classify_files
    monkeypatch.setattr(models.Classifier, "__init__",
                        lambda self, handle: (loads.append(handle), load(self, handle))[1])
    monkeypatch.setattr(models.Classifier, "classify_files",
                        lambda self, files, k=5: (forward_passes.append(len(files)), classify_files(self, files, k))[1])
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    for camera_on in (True, False, True, False):  # Widget changes rerun the whole script.
        at.toggle(key="use_camera").set_value(camera_on).run()
    assert not at.exception and headings(at)[0].startswith("### military uniform")
    assert loads == ["bundled:efficientnet_lite0/classification"] and forward_passes == [1]


def test_the_app_never_imports_keras_3(app):
    import sys
    # Once `keras` is imported, Streamlit clears the Keras session after every run.
    assert "keras" not in sys.modules
