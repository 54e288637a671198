"""AppTest of the training page: train in the background, poll, evaluate, export, and the grid's green/red view."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

TIMEOUT = 180


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def poll_until_trained(at, seconds=180):
    """run_every does not fire under AppTest: rerun until the run has finished."""
    deadline = time.monotonic() + seconds
    while "Validation accuracy" not in metrics(at):
        assert time.monotonic() < deadline, "training did not finish"
        assert not at.exception, at.exception
        time.sleep(0.5)
        at.run()
    return at


@pytest.fixture(scope="module")
def trained_app(bundled_dir, colours_dir, tmp_path_factory):
    import os
    os.environ["HUBDEMO_EXPORTS_DIR"] = str(tmp_path_factory.mktemp("exports"))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.session_state["default_data"] = str(colours_dir)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    at.number_input(key="epochs").set_value(3)
    at.number_input(key="batch_size").set_value(8)
    at.number_input(key="learning_rate").set_value(0.01)
    at.button(key="train").click().run()
    return poll_until_trained(at)


def test_shows_the_models_parameters_before_training(bundled_dir, colours_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.session_state["default_data"] = str(colours_dir)
    at.run()
    at.switch_page("pages/train.py").run()
    assert any("Trainable parameters: 3,843 · frozen:" in c.value for c in at.caption)  # 1280 × 3 + 3.
    assert not at.exception


def test_training_shows_curves_accuracy_and_the_confusion_matrix(trained_app):
    at = trained_app
    assert metrics(at)["Validation accuracy"] == "100.0%" and metrics(at)["Validation photos"] == "6"
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) >= 4  # Loss, accuracy, per class, confusion.
    assert not at.exception and not at.error


def test_export_is_saved_reloaded_and_converted(trained_app):
    at = trained_app
    at.button(key="export").click().run()
    (success,) = at.success
    assert "Saved to" in success.value and "largest difference in predictions **0.0e+00** (identical)" in success.value
    assert at.get("download_button")
    at.button(key="tflite").click().run()
    table = at.table[0].value
    assert list(table["TFLite model"]) == ["float32", "dynamic-range quantised"]
    assert list(table["Agrees with Keras"]) == ["6 of 6", "6 of 6"]


def test_the_grid_shows_the_trained_models_guesses_in_green_and_red(trained_app):
    at = trained_app
    at.switch_page("pages/grid.py").run()
    at.toggle(key="grid_mine").set_value(True).run()
    titles = [p.proto.popover.label for p in at.get("popover")]
    assert len(titles) == 6 and all(t.startswith(":green[✓ ") for t in titles)
    assert metrics(at)["Right in this batch"] == "6 of 6 (100%)"
    at.toggle(key="grid_mistakes_only").set_value(True).run()
    assert any("No mistakes" in s.value for s in at.success)
    assert not at.exception


def test_the_green_red_view_sees_a_photo_edited_in_place(trained_app):
    from make_images import colour_photo
    at = trained_app
    at.switch_page("pages/grid.py").run()
    at.toggle(key="grid_mine").set_value(True).run()
    at.toggle(key="grid_mistakes_only").set_value(False).run()
    ev = at.session_state["trained"].evaluation
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


def test_a_run_survives_widget_reruns_and_a_visit_to_another_page(bundled_dir, colours_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.session_state["default_data"] = str(colours_dir)
    at.run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="epochs").set_value(150)
    at.number_input(key="batch_size").set_value(2)
    at.button(key="train").click().run()
    run = at.session_state["training_run"]
    at.number_input(key="epochs").set_value(5).run()  # A widget rerun mid-training.
    at.switch_page("pages/classifier.py").run()
    at.switch_page("pages/train.py").run()
    assert at.session_state["training_run"] is run and run.running
    assert any(p.text.startswith(("Epoch", "Computing features")) for p in at.get("progress")) or \
        "Validation accuracy" in metrics(at)
    assert at.button(key="train").disabled
    at.button(key="stop_training").click().run()
    run.thread.join(60)
    at.run()
    assert run.snapshot().status == "stopped" and len(run.snapshot().epochs) < 150
    assert any(i.value.startswith("Stopped") for i in at.info) and not at.exception
