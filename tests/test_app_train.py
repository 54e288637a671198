"""AppTest of the training page: train in the background, every run kept and labelled, evaluate, export, use it."""

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

TIMEOUT = 180


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def poll_until_trained(at, seconds=180):
    """run_every does not fire under AppTest: rerun until the newest run has finished."""
    deadline = time.monotonic() + seconds
    while at.session_state["runs"].latest.running or "Validation accuracy" not in metrics(at):
        assert time.monotonic() < deadline, "training did not finish"
        assert not at.exception, at.exception
        time.sleep(0.5)
        at.run()
    return at


def open_train(default_data) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.session_state["default_data"] = str(default_data)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def train(at, **settings):
    for key, value in settings.items():
        at.number_input(key=key).set_value(value)
    at.button(key="train").click().run()
    return poll_until_trained(at)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    import os
    folder = tmp_path_factory.mktemp("exports")
    os.environ["HUBDEMO_EXPORTS_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="module")
def trained_app(bundled_dir, colours_dir, exports):
    return train(open_train(colours_dir), epochs=3, batch_size=8, learning_rate=0.01)


def test_shows_the_models_parameters_before_training(bundled_dir, colours_dir):
    at = open_train(colours_dir)
    assert any("Trainable parameters: 3,843 · frozen:" in c.value for c in at.caption)  # 1280 × 3 + 3.
    assert any("Only 6 photos are held back for validation" in w.value for w in at.warning), \
        "a validation set this small is flagged before training"


def test_a_class_that_is_one_recording_is_flagged_before_training(bundled_dir, colours_dir, tmp_path):
    import shutil
    data = shutil.copytree(colours_dir, tmp_path / "recorded")
    classes = sorted(p for p in data.iterdir() if p.is_dir())
    for n, photo in enumerate(sorted(classes[0].iterdir())):  # One recording from the live camera.
        photo.rename(photo.with_name(f"live-1700000000-{n:03d}{photo.suffix}"))
    at = open_train(data)
    assert any(w.value.startswith(f"{classes[0].name}: one recording from the live camera") for w in at.warning), \
        [w.value for w in at.warning]
    assert not any(w.value.startswith(f"{classes[1].name}:") for w in at.warning)
    assert any(c.value == "30 photos train the new layer; 6 are held back to check it on photos it never trained "
               "on (the validation accuracy)." for c in at.caption), "the split, said; the recording is cut, not whole"


def test_training_shows_curves_accuracy_and_the_confusion_matrix_labelled_with_the_run(trained_app):
    at = trained_app
    assert metrics(at)["Validation accuracy"] == "100.0%" and metrics(at)["Validation photos"] == "6"
    assert [s.value for s in at.subheader][-3:] == ["Run 1 · colours", "All runs this session (1)",
                                                   "Which model should I use?"]
    assert any(m.value == "#### How good is it? · colours · run 1" for m in at.markdown)
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) >= 5  # Loss, accuracy, per class, confusion, runs compared.
    assert not at.exception and not at.error


def test_the_code_for_the_run_carries_its_settings_and_downloads_as_a_notebook(trained_app):
    at = trained_app
    (code,) = [c.value for c in at.code if "EPOCHS = " in c.value]
    assert "EPOCHS = 3" in code and "BATCH_SIZE = 8" in code and "LEARNING_RATE = 0.01" in code
    assert "import hubdemo" not in code and "hub.KerasLayer(HANDLE" in code
    assert "The code for colours · run 1: TensorFlow Hub and tf_keras, no hubdemo" in [e.label for e in at.expander]
    assert "Download as a notebook (.ipynb)" in [b.proto.label for b in at.get("download_button")]


def test_export_writes_every_file_checks_them_and_offers_each_download(trained_app, exports):
    at = trained_app
    at.button(key="export").click().run()
    success = next(s.value for s in at.success if "Saved to" in s.value)
    assert "largest difference in predictions **0.0e+00** (identical)" in success
    table = at.table[0].value
    assert list(table["File"]) == ["model.tflite", "model_quant.tflite"]
    assert list(table["Agrees with Keras"]) == ["6 of 6", "6 of 6"]
    labels = [b.proto.label for b in at.get("download_button")][-3:]
    assert labels == ["The whole export (.zip)", "model.tflite + labels.txt", "model_quant.tflite + labels.txt"]
    assert not [b for b in at.button if b.key == "export"], "the Export button goes once it has done its work"
    (folder,) = exports.iterdir()
    assert folder.name.endswith("-colours-run-1")
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["run"] == "colours · run 1" and meta["settings"]["learning_rate"] == 0.01


def test_a_run_that_let_go_of_its_model_opens_its_export_again(trained_app):
    """Only the newest runs keep their model; an older one that was exported comes back in one click."""
    from hubdemo.runs import model_file
    at = trained_app
    book = at.session_state["runs"]
    run = book.get(1)
    model, run.model = run.model, None  # As a newer run's arrival lets it go (RunBook.new).
    kept = model_file(book.file, 1)
    weights = kept.read_bytes()
    kept.unlink()  # As for a network trained whole, whose weights are not kept on disk.
    try:
        at.run()
        assert any("no longer in memory (only the newest 3 runs keep theirs), but you exported it" in c.value
                   for c in at.caption)
        assert not [b for b in at.button if b.key == "try_classifier"], "nothing to try until it is opened"
        at.button(key="reopen_1").click().run()
        assert not [b for b in at.button if b.key == "reopen_1"], "the button goes once it has done its work"
        assert any(m.value.startswith("#### Try colours · run 1 (saved") for m in at.markdown)
        at.button(key="try_classifier").click().run()
        assert at.selectbox(key="classifier_model").value.startswith("Yours: colours · run 1 (saved")
        guesses = [m.value for m in at.markdown if m.value.startswith("### ")]
        assert len(guesses) == 2 and guesses[1].split(" · ")[1] in {"blue", "green", "red"}
        assert not at.exception
    finally:
        run.model = model
        kept.write_bytes(weights)
        at.switch_page("pages/train.py").run()


def test_an_earlier_run_that_let_go_of_its_model_gets_it_back_from_its_kept_weights(trained_app):
    """A new last layer's weights stay on disk: looking at its run again makes its model again, at once."""
    at = trained_app
    at.switch_page("pages/train.py").run()
    book = at.session_state["runs"]
    run = book.get(1)
    model, run.model = run.model, None  # As newer runs' arrival lets it go (RunBook.new).
    try:
        at.run()
        assert run.model is not None and run.model is not model, "made again from its weights"
        assert run.model.labels == model.labels
        assert any(m.value == "#### Export colours · run 1" for m in at.markdown)
        at.button(key="try_classifier").click().run()
        assert at.selectbox(key="classifier_model").value == "Yours: colours · run 1"
        guesses = [m.value for m in at.markdown if m.value.startswith("### ")]
        assert len(guesses) == 2 and guesses[1].split(" · ")[1] in {"blue", "green", "red"}
        assert not at.exception
    finally:
        run.model = model
        at.switch_page("pages/train.py").run()


def test_the_classifier_lists_an_earlier_run_that_let_go_of_its_model_and_brings_it_back(trained_app):
    """Your model everywhere: a run whose model left memory is still in the picker; choosing it makes it again."""
    from hubdemo.runs import model_file
    at = trained_app
    book = at.session_state["runs"]
    run = book.get(1)
    at.switch_page("pages/classifier.py").run()
    at.selectbox(key="classifier_model").set_value("EfficientNet-Lite0 (bundled, works offline)").run()
    model, run.model = run.model, None  # As newer runs' arrival lets it go (RunBook.new).
    weights = model_file(book.file, 1).read_bytes()
    try:
        at.run()
        picker = at.selectbox(key="classifier_model")
        # Named with its accuracy (and, among runs that differ, with what sets it apart).
        listed = f"Yours: colours · run 1 · {run.evaluation.accuracy:.1%}"
        assert listed in picker.options and run.model is None, "listed, not made until chosen"
        picker.set_value("Yours: colours · run 1").run()
        assert run.model is not None and run.model.labels == model.labels
        guesses = [m.value for m in at.markdown if m.value.startswith("### ")]
        assert len(guesses) == 2 and guesses[1].split(" · ")[1] in {"blue", "green", "red"}
        # The whole title again below the picker, where a narrow sidebar does not cut it short.
        assert any(c.value.startswith(f"Your model **{listed[len('Yours: '):]}**") for c in at.sidebar.caption)
        assert not at.exception

        run.model = None
        model_file(book.file, 1).write_bytes(b"PK not really")  # Damaged: one clear message, the page goes on.
        at.run()
        assert any("could not be made again from its kept weights" in e.value for e in at.error)
        assert not at.exception
    finally:
        model_file(book.file, 1).write_bytes(weights)
        run.model = model
        at.selectbox(key="classifier_model").set_value("Yours: colours · run 1")
        at.switch_page("pages/train.py").run()


def test_the_grid_shows_the_trained_models_guesses_in_green_and_red(trained_app):
    at = trained_app
    at.switch_page("pages/grid.py").run()
    at.button(key="grid_use_mine").click().run()  # "You have a model of your own" → use it.
    assert at.selectbox(key="grid_model").value == "Yours: colours · run 1"
    assert at.title[0].value == "Dataset grid: how right is colours · run 1?"
    titles = [p.proto.popover.label for p in at.get("popover")]
    assert len(titles) == 6 and all(t.startswith(":green[✓ ") for t in titles)
    assert metrics(at)["Right in this batch"] == "6 of 6 (100%)"
    assert any("6 validation photos of this dataset, which colours · run 1 never trained on" in c.value
               for c in at.caption)
    at.toggle(key="grid_mistakes_only").set_value(True).run()
    assert metrics(at)["Mistakes"] == "0 of 6 photos" and "Right in this batch" not in metrics(at)
    assert any("No mistakes" in s.value for s in at.success)
    # The code behind it: the same photos (the run's validation split), judged by your model's export.
    code = next(c.value for c in at.code if "judged" in c.value)
    assert "VALIDATION_SPLIT = 0.2\nSEED = 0" in code and "judged = val_idx" in code
    assert not at.exception


def test_the_green_red_view_sees_a_photo_edited_in_place(trained_app):
    from make_images import colour_photo
    at = trained_app
    at.switch_page("pages/grid.py").run()
    at.selectbox(key="grid_model").select("Yours: colours · run 1").run()
    at.toggle(key="grid_mistakes_only").set_value(False).run()
    ev = at.session_state["runs"].latest.evaluation
    red = next(f for f, t in zip(ev.files, ev.true) if ev.class_names[t] == "red")
    original = red.read_bytes()
    try:
        red.write_bytes(colour_photo((40, 60, 220), seed=1))  # Now blue, still filed under red.
        at.run()
        assert metrics(at)["Right in this batch"] == "5 of 6 (83%)"
        assert [p.proto.popover.label for p in at.get("popover")].count(":red[✗ blue]") == 1
    finally:
        red.write_bytes(original)
    at.run()
    assert metrics(at)["Right in this batch"] == "6 of 6 (100%)" and not at.exception


def test_try_it_opens_the_classifier_with_your_model_beside_imagenet(trained_app):
    at = trained_app
    at.switch_page("pages/train.py").run()
    at.button(key="try_classifier").click().run()
    assert at.selectbox(key="classifier_model").value == "Yours: colours · run 1"
    guesses = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert len(guesses) == 2, "ImageNet's guess and yours, for the sample photo"
    assert guesses[1].split(" · ")[1] in {"blue", "green", "red"}
    assert any("tf.saved_model.load(EXPORT_DIR)" in c.value for c in at.code), "the code for your model too"
    assert not at.exception
    # Straight to the live camera with it: the climax of the lesson, one click away.
    at.switch_page("pages/train.py").run()
    at.button(key="try_live").click().run()
    assert at.selectbox(key="classifier_model").value == "Yours: colours · run 1"
    assert at.radio(key="classifier_input").value == "Live camera" and not at.exception


def test_changed_settings_fold_the_old_results_away_and_every_run_is_kept(trained_app):
    at = trained_app
    at.switch_page("pages/train.py").run()
    at.number_input(key="learning_rate").set_value(0.002).run()
    stale = next(w.value for w in at.warning if "made with other data or settings" in w.value)
    assert "**colours · run 1**" in stale and "learning rate 0.01 → 0.002" in stale and "run 2" in stale
    assert "Results of colours · run 1 (earlier data or settings)" in [e.label for e in at.expander]
    train(at)
    assert [s.value for s in at.subheader][-3:] == ["Run 2 · colours", "All runs this session (2)",
                                                   "Which model should I use?"]
    assert not any("made with other data or settings" in w.value for w in at.warning)
    table = at.dataframe[-1].value
    assert list(table["Run"]) == [2, 1] and list(table["Learning rate"]) == [0.002, 0.01]
    assert at.multiselect(key="compare_runs").value == ["colours · run 1", "colours · run 2"]


def test_an_earlier_run_can_be_shown_again_tried_and_exported(trained_app):
    """Every run is kept: an earlier one's results come back on the page, marked, with its model and export."""
    at = trained_app
    at.switch_page("pages/train.py").run()
    book = at.session_state["runs"]
    newest = book.latest
    assert newest.number >= 2 and newest.config.learning_rate == 0.002
    picker = at.selectbox(key="shown_run")
    assert picker.value == newest.number and len(picker.options) == len(book.runs)
    # Newest first, each with what sets it apart and its accuracy.
    assert picker.options[0].startswith(f"{newest.label} (learning rate 0.002")
    assert picker.options[-1] == f"colours · run 1 (learning rate 0.01) · {book.get(1).evaluation.accuracy:.1%}"
    picker.set_value(1).run()
    assert "Run 1 · colours" in [s.value for s in at.subheader]
    stale = next(w.value for w in at.warning if "made with other data or settings" in w.value)
    assert "**colours · run 1**" in stale and "learning rate 0.01 → 0.002" in stale
    assert not any(e.label.startswith("Results of") for e in at.expander), "picked on purpose: not folded"
    assert metrics(at)["Validation accuracy"] == f"{book.get(1).evaluation.accuracy:.1%}"
    assert any(m.value == "#### Export colours · run 1" for m in at.markdown)
    at.selectbox(key="shown_run").set_value(1).run()  # Widget reruns keep the choice.
    assert "Run 1 · colours" in [s.value for s in at.subheader]
    at.button(key="try_classifier").click().run()
    assert at.selectbox(key="classifier_model").value == "Yours: colours · run 1"
    at.switch_page("pages/train.py").run()
    assert at.selectbox(key="shown_run").value == 1, "kept across pages"
    train(at, epochs=2)  # A new run brings the page back to the newest.
    assert at.selectbox(key="shown_run").value == book.latest.number == newest.number + 1
    assert f"Run {book.latest.number} · colours" in [s.value for s in at.subheader]
    assert not at.exception


def test_a_new_dataset_marks_the_last_run_as_another_datasets(trained_app, tmp_path):
    from make_images import colour_dataset
    other = colour_dataset(tmp_path / "shades", per_class=4, classes={"dark": (30, 30, 30), "light": (230, 230, 230)})
    at = trained_app
    at.switch_page("pages/train.py").run()
    at.text_input(key="dataset_folder").input(str(other)).run()
    stale = next(w.value for w in at.warning if "made with other data or settings" in w.value)
    assert "the dataset (now shades, 8 photos)" in stale
    latest = at.session_state["runs"].latest.label
    assert f"Results of {latest} (earlier data or settings)" in [e.label for e in at.expander]
    assert any(c.value.startswith(f"The code, the notebook and the comparison with training from scratch need the "
                                  f"photos {latest} trained on") for c in at.caption)
    assert not [b for b in at.button if b.key == "from_scratch_run"], "it would train on the other photos"
    assert not any(e.label.startswith("The code for") for e in at.expander), "it would load the other folder"
    assert not at.exception


def test_a_run_survives_widget_reruns_and_a_visit_to_another_page(bundled_dir, colours_dir):
    at = open_train(colours_dir)
    at.number_input(key="epochs").set_value(150)
    at.number_input(key="batch_size").set_value(2)
    at.button(key="train").click().run()
    run = at.session_state["runs"].latest
    assert at.number_input(key="epochs").disabled and at.number_input(key="learning_rate").disabled, \
        "the settings are locked while the run trains"
    at.switch_page("pages/classifier.py").run()
    at.switch_page("pages/train.py").run()
    assert at.session_state["runs"].latest is run and run.running
    assert at.number_input(key="epochs").value == 150, "the settings survive the visit too"
    assert any(p.text.startswith(("Epoch", "Computing features", "Getting ready", "Starting training"))
               for p in at.get("progress"))
    assert at.button(key="train").disabled
    at.button(key="stop_training").click().run()
    run.thread.join(60)
    at.run()
    assert run.snapshot().status == "stopped" and len(run.snapshot().epochs) < 150
    assert any(i.value.startswith("Stopped") for i in at.info) and not at.exception
    assert not at.number_input(key="epochs").disabled


def test_runs_with_no_epoch_yet_say_when_their_curves_come_instead_of_empty_axes(bundled_dir, colours_dir):
    from hubdemo import models
    from hubdemo.runs import TrainConfig
    at = open_train(colours_dir)
    run = at.session_state["runs"].new(TrainConfig(), feature_handle=models.resolve_handle("efficientnet_lite0_features"),
                                       dataset_name="colours", dataset_key="")
    run.set_status("extracting")  # Computing features: no epoch has ended.
    at.run()
    assert "The curves appear here as the runs finish their epochs." in [i.value for i in at.info]
    assert not [c for c in at.get("vega_lite_chart") if "run by run" in json.dumps(c.proto.spec)]
    run.set_status("stopped")
    assert not at.exception


def test_the_mistakes_show_where_the_model_looked(bundled_dir, flowers_dir):
    at = train(open_train(flowers_dir), epochs=3)
    ev = at.session_state["runs"].latest.evaluation
    assert ev.mistakes, "some flowers are mistaken after 3 epochs"
    shown = min(len(ev.mistakes), 30)
    plain = [i.proto.imgs[0].url for i in at.image]
    at.toggle(key="run1_gallery_heat").set_value(True).run()
    heats = [i.proto.imgs[0].url for i in at.image]
    assert not at.exception and len(heats) == len(plain) and len(set(heats) - set(plain)) == shown
    assert any(c.value.startswith("Why did it call this rose a tulip?") for c in at.caption)


def test_one_click_trains_the_same_from_scratch_and_draws_both_curves(bundled_dir, colours_dir):
    at = train(open_train(colours_dir), epochs=2, batch_size=8)
    assert any(m.value == "#### Would a network trained from nothing do as well?" for m in at.markdown)
    at.button(key="from_scratch_run").click().run()
    book = at.session_state["runs"]
    scratch = book.latest
    assert scratch.number == 2 and scratch.config.from_scratch and scratch.config.epochs == 2
    assert at.toggle(key="from_scratch").value and at.toggle(key="from_scratch").disabled, "shown, and locked"
    poll_until_trained(at)
    assert [s.value for s in at.subheader][-3:] == ["Run 2 · colours", "All runs this session (2)",
                                                   "Which model should I use?"]
    assert not any("made with other data or settings" in w.value for w in at.warning), "run 2 is current"
    assert at.multiselect(key="compare_runs").value == ["colours · run 1", "colours · run 2"]
    assert any(c.value.startswith("Transfer against from scratch") for c in at.caption)
    assert not any(m.value == "#### Would a network trained from nothing do as well?" for m in at.markdown)
    assert not at.exception

    import numpy as np
    model, scratch.model = scratch.model, None  # As newer runs' arrival lets it go (RunBook.new).
    at.run()
    assert scratch.model is not None and scratch.model is not model, "the whole network, made again from its file"
    assert all(np.array_equal(a, b) for a, b in zip(scratch.model.learned_weights(), model.learned_weights()))
    assert any(m.value == "#### Export colours · run 2" for m in at.markdown) and not at.exception


def test_comparing_two_feature_extractors_shows_them_side_by_side(colours_dir):
    at = open_train(colours_dir)
    assert at.multiselect(key="compare_models").value == ["bundled:efficientnet_lite0/feature_vector",
                                                         "bundled:efficientnet_lite2/feature_vector"]
    for key, value in {"epochs": 3, "batch_size": 8}.items():
        at.number_input(key=key).set_value(value)
    at.button(key="compare_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[-1].value
    assert list(table["Model"]) == ["EfficientNet-Lite0 feature vector", "EfficientNet-Lite2 feature vector"]
    assert list(table["Validation accuracy"]) == [100.0, 100.0]
    assert (table["ms per photo"] > 0).all() and (table["Export (MB)"] > 10).all()
    assert table["Parameters"].iloc[1] > table["Parameters"].iloc[0]
    assert any("was the most accurate" in c.value for c in at.caption)
    book = at.session_state["runs"]
    assert {r.feature_handle for r in book.runs} == set(at.multiselect(key="compare_models").value)
    assert book.latest.feature_handle == "bundled:efficientnet_lite0/feature_vector", "the sidebar's model, last"
    assert not any("were made with other data or settings" in w.value for w in at.warning)
    at.number_input(key="learning_rate").set_value(0.02).run()  # Other settings: the comparison is folded away.
    assert any(e.label.startswith("The last comparison") for e in at.expander)


COMPARED_AT_MOST = 8  # pages/train.py's


def test_the_runs_chart_compares_the_newest_runs_with_a_key_and_older_ones_can_come_back(bundled_dir, colours_dir):
    at = open_train(colours_dir)
    for seed in range(COMPARED_AT_MOST + 1):
        at = train(at, epochs=1, batch_size=8, seed=seed)
    newest = [f"colours · run {n}" for n in range(2, COMPARED_AT_MOST + 2)]
    compared = at.multiselect(key="compare_runs")
    assert compared.value == newest, "run 1 left the chart when the ninth run joined it"
    (key,) = [m.value for m in at.markdown if 'data-testid="colour-key"' in m.value]
    assert all(f"{label} (seed {n - 1})" in key for n, label in enumerate(newest, 2)), "every line's run, named"
    compared.select("colours · run 1").run()
    (key,) = [m.value for m in at.markdown if 'data-testid="colour-key"' in m.value]
    assert "colours · run 1 (seed 0)" in key and not at.exception


def test_augmentation_shows_what_it_does_to_a_photo(bundled_dir, colours_dir):
    at = open_train(colours_dir)
    assert not at.get("imgs"), "nothing shown while augmentation is off"
    at.toggle(key="augment").set_value(True).run()
    (shown,) = [i for i in at.image if len(i.proto.imgs) == 6]
    assert [i.caption for i in shown.proto.imgs][1:] == [f"copy {n}" for n in range(1, 6)]
    assert shown.proto.imgs[0].caption in {p.name for p in colours_dir.iterdir()}, "the photo, under its class"
    before = [i.url for i in shown.proto.imgs]
    assert len(set(before)) == 6, "five different copies beside the photo"
    assert any(c.value.startswith("Every epoch, each training photo comes out a little different") for c in at.caption)
    at.button(key="augment_another").click().run()
    (again,) = [i for i in at.image if len(i.proto.imgs) == 6]
    assert not set(i.url for i in again.proto.imgs) & set(before), "another photo, other copies"
    assert not at.exception
