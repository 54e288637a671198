"""AppTest of the classifier page: the sample, uploads, camera, bad files and handles, your own models."""

import pytest
from streamlit.testing.v1 import AppTest

import camera
from conftest import ROOT
from hubdemo import export, images
from make_images import colour_photo, png, zip_of

TIMEOUT = 120  # The first run imports TensorFlow and loads the model.
OPEN = "Open a saved model (an export folder or .zip)…"


@pytest.fixture
def app(bundled_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def headings(at):
    """Each guess's headline, ``### 36% · military uniform``, as its class name."""
    return [m.value.split(" · ", 1)[1] for m in at.markdown if m.value.startswith("### ")]


def test_first_open_shows_grace_hopper_as_military_uniform(app):
    assert headings(app)[0] == "military uniform"
    top = next(m.value for m in app.markdown if m.value.startswith("### "))
    assert top.startswith("### ") and top.split()[1].endswith("%"), "the percentage comes first, always in view"
    assert any("Grace Hopper" in c.value for c in app.caption)
    assert any("**EfficientNet-Lite0 (ImageNet)** says" in c.value for c in app.caption)
    assert not app.error


def test_a_launch_shows_the_sample_answer_kept_from_the_last_before_the_model_has_loaded(app, monkeypatch):
    """The first page of a launch needs no TensorFlow: the same model build's answer, kept on disk, is shown at once."""
    import cached
    from hubdemo import bundled, first_answer, models
    handle = bundled.CLASSIFIER_HANDLE
    kept = first_answer.recall(handle)
    assert kept is not None and kept.predictions[0].label == "military uniform", "kept by the first page's run"
    fresh = models.ImageNetClassifier(handle).classify_files([(images.SAMPLE_NAME, images.sample_photo())])[0]
    assert [p.label for p in kept.predictions] == [p.label for p in fresh.predictions], "the model's own answer"

    def still_loading(h):  # As at a launch, before TensorFlow is in: any use of the model would fail here.
        raise cached.HubDemoError("The model is still loading.")
    monkeypatch.setattr(cached, "_loaded", set())
    monkeypatch.setattr(cached, "classifier", still_loading)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and headings(at)[0] == "military uniform", "shown without the model"
    assert any("**EfficientNet-Lite0 (ImageNet)** says" in c.value for c in at.caption)
    assert [e.value for e in at.error] == ["The model is still loading."], "then loaded, and its error shown"
    at.toggle(key="classifier_heat").set_value(True).run()  # Anything beyond the sample needs the model itself.
    assert not headings(at) and [e.value for e in at.error] == ["The model is still loading."]

    (bundled.build_dir() / "classification" / "saved_model.pb").touch()  # A rebuilt model: the old answer is not its.
    assert first_answer.recall(handle) is None
    first_answer.remember(handle, "other.jpg", b"not the sample", fresh)
    assert first_answer.recall(handle) is None, "only the sample photo is kept"
    first_answer.remember(handle, images.SAMPLE_NAME, images.sample_photo(), fresh)
    assert first_answer.recall(handle).predictions == fresh.predictions
    first_answer._path(handle).write_text("{ damaged")  # A damaged record is no answer, and no error.
    assert first_answer.recall(handle) is None


def test_uploaded_photos_each_get_predictions_and_a_bad_file_its_own_message(app, flower_photo):
    uploader = app.file_uploader(key="uploads")
    uploader.upload("daisy.jpg", flower_photo.read_bytes(), "image/jpeg")
    uploader.upload("notes.png", b"this is text", "image/png")
    uploader.upload("gradient.png", png(), "image/png")
    app.run()
    assert not app.exception
    assert headings(app)[0] == "daisy" and len(headings(app)) == 2
    assert [e.value for e in app.error] == [
        "notes.png is not an image that can be read. Use a JPEG, PNG, HEIC, WebP, GIF, BMP or TIFF file."]
    assert not any("Grace Hopper" in c.value for c in app.caption), "the sample is only for an empty page"


def test_a_weak_best_guess_is_called_unsure_and_a_clear_one_is_not(app, flower_photo):
    """A plain red square is none of ImageNet's classes: its best guess is a shrug, and the page says so."""
    assert not app.info, "the sample's 'military uniform' is a real answer"
    uploader = app.file_uploader(key="uploads")
    uploader.upload("red.png", colour_photo((220, 40, 40), seed=3, size=224), "image/png")
    uploader.upload("daisy.jpg", flower_photo.read_bytes(), "image/jpeg")
    app.run()
    assert not app.exception
    (unsure,) = [i.value for i in app.info]
    assert unsure.startswith("Not sure: ") and "none of its 1,000 classes fits" in unsure, unsure
    assert "what the Train page is for" in unsure, "ImageNet alone: the way out is training your own"


def test_camera_snapshot_is_classified(app):
    app.radio(key="classifier_input").set_value("Camera snapshot").run()
    assert not headings(app), "no sample photo in camera mode"
    app.camera_input(key="classifier_snapshot").upload("shot.jpg", images.sample_photo())
    app.run()
    assert not app.exception
    assert headings(app) == ["military uniform"]


def test_a_camera_the_busy_server_could_not_answer_in_time_is_told_to_start_again(app, monkeypatch):
    """streamlit-webrtc gives up on a camera whose offer the server has not answered in 10 s (a run training,
    other cameras). Slowed that much in a real browser, the page said the server cannot run live video at all;
    Stop and Start then connected. So the page says that."""
    import camera
    _av, webrtc = camera.import_webrtc()  # Its way, safe beside TensorFlow (a plain import crashes here).

    def busy(**options):
        raise webrtc.webrtc.SignallingTimeoutError("Processing offer and initializing the worker has not "
                                                   "finished in 10 seconds")
    monkeypatch.setattr(webrtc, "webrtc_streamer", busy)
    app.radio(key="classifier_input").set_value("Live camera").run()
    said = [w.value for w in app.warning]
    assert any("too busy to answer it in time" in w and "**Start the camera** again" in w for w in said), said
    assert not any("cannot start on this server" in w for w in said) and not app.exception


def test_live_camera_mode_says_why_when_live_video_cannot_start(app):
    # AppTest has no real server for WebRTC to attach to: the page must say so and point to snapshots.
    app.radio(key="classifier_input").set_value("Live camera").run()
    assert not app.exception
    assert any("Live video cannot start on this server" in w.value and "Camera snapshot" in w.value
               for w in app.warning)
    app.toggle(key="classifier_heat").set_value(True).run()  # Live heatmaps are Grad-CAM's: no method to pick.
    assert not app.exception and not [s for s in app.selectbox if s.key == "classifier_heat_method"]


def test_the_camera_is_explained_where_the_browser_would_block_it():
    assert camera.camera_blocked_reason("http://localhost:8501/") is None
    assert camera.camera_blocked_reason("https://192.168.1.20:8501/") is None
    reason = camera.camera_blocked_reason("http://192.168.1.20:8501/grid")
    assert "only on https:// pages or on localhost" in reason and "http://localhost:8501" in reason


def test_unusable_model_handle_shows_an_error_and_no_traceback(app, tmp_path):
    app.selectbox(key="classifier_model").select("Other: a TF Hub URL or a SavedModel folder…").run()
    assert any("Type a model handle" in i.value for i in app.info)
    app.text_input(key="classifier_handle").input(f"{tmp_path}  ").run()  # A pasted path with a trailing space.
    assert not app.exception
    assert "not a SavedModel folder" in app.error[0].value
    app.text_input(key="classifier_handle").input("https://hub.invalid/model/1").run()
    assert "Could not download" in app.error[0].value and not app.exception


def test_a_saved_export_opened_from_its_folder_answers_beside_imagenet(app, colours_export):
    folder, _ = colours_export
    app.selectbox(key="classifier_model").select(OPEN).run()
    app.text_input(key="classifier_open_folder").input(str(folder))
    app.button(key="classifier_open_button").click().run()
    assert not app.exception and not app.error
    assert app.selectbox(key="classifier_model").value.startswith("Yours: colours · run 1 (saved ")
    app.file_uploader(key="uploads").upload("red.png", colour_photo((220, 40, 40), seed=3), "image/png")
    app.run()
    guesses = headings(app)
    assert len(guesses) == 2 and guesses[1] == "red", "ImageNet's guess, then yours"
    (unsure,) = [i.value for i in app.info]  # ImageNet has no class for a red square; yours was taught one.
    assert "Your model, beside it, was taught classes of its own." in unsure, unsure
    captions = [c.value for c in app.caption]
    assert any(c.startswith("ImageNet's **EfficientNet-Lite0** says") for c in captions)
    assert any(c.startswith("Your model **colours · run 1 (saved") for c in captions)
    assert any(f"EXPORT_DIR = {str(folder)!r}" in c.value for c in app.code), "the code loads this export"


def test_an_uploaded_export_zip_opens_and_a_hostile_one_is_refused(app, colours_export):
    folder, _ = colours_export
    app.selectbox(key="classifier_model").select(OPEN).run()
    app.radio(key="classifier_open_from").set_value("Upload its .zip").run()
    app.file_uploader(key="classifier_open_zip_0").upload("evil.zip", zip_of({"../../x.pb": b"x"}),
                                                          "application/zip")
    app.run()
    assert "outside its own folder" in app.sidebar.error[0].value and not app.exception
    app.file_uploader(key="classifier_open_zip_0").clear().upload("colours.zip", export.zip_bytes(folder),
                                                                  "application/zip")
    app.run()
    assert not app.exception and app.selectbox(key="classifier_model").value.startswith("Yours: colours")
    assert headings(app)[1] in {"blue", "green", "red"}, "the sample photo, named with the export's classes"


def test_reruns_reuse_the_loaded_model_and_earlier_results(bundled_dir, monkeypatch):
    import streamlit as st

    from hubdemo import models
    st.cache_resource.clear()
    st.cache_data.clear()
    loads, forward_passes = [], []
    load, classify_files = models.ImageNetClassifier.__init__, models.ImageNetClassifier.classify_files
    monkeypatch.setattr(models.ImageNetClassifier, "__init__",
                        lambda self, handle: (loads.append(handle), load(self, handle))[1])
    monkeypatch.setattr(models.ImageNetClassifier, "classify_files",
                        lambda self, files, k=5: (forward_passes.append(len(files)), classify_files(self, files, k))[1])
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    for mode in ("Camera snapshot", "Upload photos", "Live camera", "Upload photos"):  # Each reruns the script.
        at.radio(key="classifier_input").set_value(mode).run()
    assert not at.exception and headings(at)[0] == "military uniform"
    assert loads == ["bundled:efficientnet_lite0/classification"] and forward_passes == [1]


def test_the_app_never_imports_keras_3(app):
    import sys
    # Once `keras` is imported, Streamlit clears the Keras session after every run.
    assert "keras" not in sys.modules


def test_your_model_still_answers_when_its_imagenet_twin_cannot_load(bundled_dir, colours_export, tmp_path,
                                                                     monkeypatch):
    import dataclasses
    import json
    import shutil

    from hubdemo import models
    # An export made on MobileNetV2 features, opened offline: its ImageNet twin cannot download.
    offline = tuple(dataclasses.replace(s, handle=s.handle.replace("tfhub.dev", "hub.invalid"))
                    for s in models.CATALOGUE)
    monkeypatch.setattr(models, "CATALOGUE", offline)
    folder = tmp_path / "mobilenet-export"
    shutil.copytree(colours_export[0], folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["hub_handle"] = next(s.handle for s in offline if s.name == "mobilenet_v2_features")
    (folder / "metadata.json").write_text(json.dumps(meta))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    at.selectbox(key="classifier_model").select(OPEN).run()
    at.text_input(key="classifier_open_folder").input(str(folder))
    at.button(key="classifier_open_button").click().run()
    at.file_uploader(key="uploads").upload("red.png", colour_photo((220, 40, 40), seed=3), "image/png")
    at.run()
    assert not at.exception
    assert "Could not download" in at.error[0].value
    assert any("Your model answers alone" in i.value for i in at.info)
    assert headings(at) == ["red"]


def captions(at) -> list[str]:
    """Every caption on the page, under images too."""
    return [c.value for c in at.caption] + [c for image in at.image for c in image.captions]


def test_where_is_it_looking_lays_a_heatmap_over_each_photo(app):
    app.toggle(key="classifier_heat").set_value(True).run()
    assert not app.exception and len(app.image) == 2, "the photo, then where the model looks in it"
    assert any(c.startswith("Where it looks for “military uniform” · Grad-CAM") for c in captions(app))
    # The code behind it: Grad-CAM needs the inner layers, so the code answers by occlusion and says why.
    assert any("answered by occlusion" in m.value for m in app.markdown)
    assert any("# Occlusion:" in c.value and "HANDLE = " in c.value for c in app.code)
    app.selectbox(key="classifier_heat_method").select("occlusion").run()
    assert any(c.startswith("Where it looks for “military uniform” · Occlusion") for c in captions(app))
    app.selectbox(key="classifier_heat_method").select("integrated-gradients").run()
    assert any("# Integrated gradients:" in c.value for c in app.code)
    app.toggle(key="classifier_heat").set_value(False).run()
    assert len(app.image) == 1 and not any("heatmap.npy" in c.value for c in app.code)


def test_imagenet_and_your_model_each_show_their_own_reason(app, colours_export):
    folder, _ = colours_export
    app.selectbox(key="classifier_model").select(OPEN).run()
    app.text_input(key="classifier_open_folder").input(str(folder))
    app.button(key="classifier_open_button").click().run()
    app.toggle(key="classifier_heat").set_value(True).run()
    assert not app.exception and len(app.image) == 3, "the photo, ImageNet's heat, your model's heat"
    reasons = [c for c in captions(app) if c.startswith("Where it looks for")]
    assert len(reasons) == 2 and "military uniform" in reasons[0] and "Grad-CAM" in reasons[1]
    assert any("heatmap.npy" in c.value and f"EXPORT_DIR = {str(folder)!r}" in c.value for c in app.code), \
        "the heatmap's code is your model's"
