"""AppTest of classroom mode's pages: the teacher's page behind its passphrase, the class project, the rules."""

import time

from streamlit.testing.v1 import AppTest

from conftest import ROOT
from make_images import jpeg

TIMEOUT = 180



def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_teachers_page_opens_only_with_the_passphrase_and_runs_the_class_project(classroom, monkeypatch):
    at = open_page("pages/teacher.py")
    assert not at.get("text_input") or at.text_input(key="passphrase")
    at.text_input(key="passphrase").input("tulips")
    at.button[0].click().run()
    assert at.error[0].value == "That is not the passphrase."
    assert not any(s.value == "Class project" for s in at.subheader)
    at.text_input(key="passphrase").input("tulip")
    at.button[0].click().run()
    assert [s.value for s in at.subheader][:2] == ["Class project", "Every student's runs"]
    assert any(c.value == "No runs yet. Runs appear here as students train. 1 session connected: The teacher."
               for c in at.caption), "who is here"
    # The table is there before any run, its columns saying what will come (and its code loaded with the page).
    (table,) = at.dataframe
    assert list(table.value.columns) == ["Who", "Run", "Status", "Validation accuracy"] and table.value.empty
    import room
    monkeypatch.setattr(room, "student_name", lambda sid: "[Li](http://e.vil) **big**")  # Names are typed by students.
    at.run()
    assert any(r"1 session connected: \[Li\](<http://e.vil>) \*\*big\*\*." in c.value for c in at.caption), \
        [c.value for c in at.caption]
    monkeypatch.undo()
    slots = classroom.trainers().slots
    assert any(c.value.startswith(f"Training: {slots} run{'s' * (slots != 1)} at a time") for c in at.caption)
    from hubdemo import live
    monkeypatch.setattr(live, "SHARED", live.Budget(clock=lambda: 100.0))  # Time stands still: both stay on.
    phones = [object(), object()]  # Two students' live videos, each just sent a frame.
    for phone in phones:
        live.SHARED.rate(phone)
    at.run()
    assert any(c.value.startswith("Live cameras on now: 2, sharing 15 predictions a second") for c in at.caption)
    at.text_input(key="project_classes").input("雏菊，玫瑰、 郁金香 🌷")  # Chinese commas, as a teacher types them.
    at.button[0].click().run()
    assert classroom.project().class_names == ["雏菊", "玫瑰", "郁金香 🌷"], [e.value for e in at.error]
    at.text_input(key="project_classes").input("pen, cup 杯子 ☕")
    at.button[0].click().run()  # "Start again with these classes".
    project = classroom.project()
    assert project is not None and project.class_names == ["pen", "cup 杯子 ☕"]
    assert any(f"Class project code: `{project.code}`" in m.value for m in at.markdown)
    assert "Keep the class's photos (.zip)" in [b.proto.label for b in at.get("download_button")]
    project.add_photo("pen", "p1", "a.jpg", jpeg(), by="someone")
    at.run()
    assert [e.label for e in at.expander][:2] == ["pen: 1 photo", "cup 杯子 ☕: 0 photos"]
    at.button(key="rm_pen_someone_p1.jpg").click().run()
    assert project.counts() == {"pen": 0, "cup 杯子 ☕": 0}, "the teacher removed the bad photo"
    project.add_photo("cup 杯子 ☕", "c1", "c.jpg", jpeg(), by="someone")
    at.button(key="clear_workspace").click().run()
    assert classroom.project() is None and not project.folder.exists()
    assert any(s.value.startswith("Cleared ") for s in at.success) and not at.exception


def test_class_names_on_the_students_buttons_are_shown_as_typed(classroom):
    project = classroom.new_project(["*hot* cup", "[pen](e.vil)"])
    at = open_page("pages/project.py")
    at.text_input(key="join_code").input(project.code).run()
    at.button[0].click().run()
    assert at.button_group[0].options == [r"\*hot\* cup", r"\[pen\](e.vil)"], "not bold, not a link"
    assert any(s.value.endswith(r": \*hot\* cup and \[pen\](e.vil).") for s in at.success), [s.value for s in at.success]
    teacher = open_page("pages/teacher.py")
    teacher.text_input(key="passphrase").input("tulip")
    teacher.button[0].click().run()
    assert [e.label for e in teacher.expander][:2] == [r"\*hot\* cup: 0 photos", r"\[pen\](e.vil): 0 photos"]


def test_a_student_joins_with_the_code_and_adds_photos_that_the_train_page_offers(classroom):
    project = classroom.new_project(["pen", "cup"])
    at = open_page("pages/project.py")
    at.text_input(key="join_code").input("ZZZZ").run()
    assert "'ZZZZ' is not this class's code" in at.error[0].value
    wide = " ".join(chr(ord(c) + 0xFEE0) for c in project.code.lower())  # A Chinese keyboard in full-width mode.
    at.text_input(key="join_code").input(wide).run()
    at.button[0].click().run()
    assert any(f"class project **{project.code}**" in s.value for s in at.success)
    for i in range(2):
        for name in ("pen", "cup"):
            at.button_group[0].set_value(name).run()
            at.camera_input(key=f"project_camera_{2 * i + (name == 'cup')}").upload(f"{name}.jpg", jpeg()).run()
    assert project.counts() == {"pen": 2, "cup": 2}
    assert any("You added 4 photos." in c.value for c in at.caption)
    at.switch_page("pages/train.py").run()
    at.radio(key="dataset_source").set_value("The class project").run()
    assert {m.label: m.value for m in at.metric}["Images"] == "4" and not at.exception
    assert at.session_state["kept_joined"] == project.code, "kept with the desk's settings, which outlive a restart"
    classroom.project_box.clear()  # The server restarts: nothing of the project in memory, its photos on disk.
    classroom.sessions.clear()
    at.session_state["kept_student_name"] = "Anna"  # The name typed when joining, kept with the desk.
    at.switch_page("pages/project.py").run()
    assert not any(t.key == "join_code" for t in at.text_input), "still in the project: no need to join again"
    assert [e.name for e in classroom.sessions().values()] == ["Anna"], "the teacher's list names them again"
    again = open_page("pages/project.py")
    assert classroom.project().code == project.code and classroom.project().counts() == {"cup": 2, "pen": 2}
    again.text_input(key="join_code").input(project.code).run()
    assert not again.error and not again.exception, "the same code still joins"


def test_folders_and_handles_outside_the_teachers_folders_are_refused(classroom, tmp_path):
    at = open_page("pages/train.py")
    at.text_input(key="dataset_folder").input(str(tmp_path)).run()
    assert "In this classroom, a dataset can only come from the teacher's folders ('colours')" in at.error[0].value
    at.switch_page("pages/classifier.py").run()
    at.selectbox(key="classifier_model").set_value("Other: a TF Hub URL or a SavedModel folder…").run()
    at.sidebar.text_input[0].input("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/5").run()
    assert "must be downloaded by the teacher" in at.sidebar.error[0].value and not at.exception


def test_a_comparison_in_a_classroom_trains_through_the_queue_not_in_the_server(classroom, monkeypatch):
    from hubdemo import training

    def in_the_server(*args, **kwargs):
        raise AssertionError("a classroom's comparison trained in the server's process")
    monkeypatch.setattr(training, "train", in_the_server)  # The workers are other processes: they keep the real one.
    at = open_page("pages/train.py")
    assert {m.label: m.value for m in at.metric}["Images"] == "36", "the teacher's folder"
    for key, value in {"epochs": 3, "batch_size": 8}.items():
        at.number_input(key=key).set_value(value)
    at.multiselect(key="compare_models").set_value(["bundled:efficientnet_lite0/feature_vector",
                                                    "bundled:efficientnet_lite1/feature_vector"])
    at.button(key="compare_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[-1].value
    assert list(table["Validation accuracy"]) == [100.0, 100.0] and (table["ms per photo"] > 0).all()
    book = at.session_state["runs"]
    assert [r.snapshot().status for r in book.runs] == ["done", "done"] and all(r.model for r in book.runs)
    assert classroom.trainers().workers(), "the class's trainer processes did the work"


def test_a_comparison_left_while_waiting_gives_up_its_runs(classroom, colours_dir):
    """Streamlit stops a script where it draws, when the student clicks: the run waiting for a trainer is cancelled."""
    import pytest

    from hubdemo import datasets, runs
    data = datasets.load_folder(colours_dir)
    run = runs.RunBook().new(runs.TrainConfig(epochs=50), feature_handle="bundled:efficientnet_lite0/feature_vector",
                             dataset_name=data.name, dataset_key=data.fingerprint)

    def clicked(run):
        raise KeyboardInterrupt("the student clicked Cancel")  # What the script sees: its run is interrupted.
    with pytest.raises(KeyboardInterrupt):
        classroom.train_and_wait(data, run, waiting=clicked)
    deadline = time.monotonic() + 120
    while run.running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.snapshot().status == "stopped", run.snapshot()  # Not 50 epochs later, done.


def big_photos(count: int = 3) -> list[bytes]:
    """Photos of about 0.4 MB each: against a 1 MB quota, one fits and three do not."""
    import io

    import numpy as np
    from PIL import Image
    noise = np.random.default_rng(0).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    photos = []
    for i in range(count):
        buffer = io.BytesIO()
        Image.fromarray(np.roll(noise, i, axis=0)).save(buffer, "JPEG", quality=95)
        photos.append(buffer.getvalue())
    return photos


def named(photos: list[bytes]) -> list[tuple[str, bytes]]:
    """Photos as a recording from the live camera names them."""
    return [(f"live-1-{number:03d}", data) for number, data in enumerate(photos)]


def with_quota(classroom, monkeypatch, option: str):
    import sys
    monkeypatch.setattr(sys, "argv", [*sys.argv, option, "1"])
    classroom.policy.cache_clear()
    classroom.workspace.clear()


def test_photos_that_would_not_fit_the_quota_are_refused_together(classroom, monkeypatch):
    with_quota(classroom, monkeypatch, "--session-quota-mb")
    photos = big_photos()
    at = open_page("pages/grid.py")
    at.radio(key="dataset_source").set_value("Build your own (photos or camera)").run()
    at.text_input(key="new_class_name").input("cup")
    at.button[0].click().run()
    uploader = at.file_uploader(key="build_up_cup_0")
    for i, data in enumerate(photos):
        uploader.upload(f"{i}.jpg", data, "image/jpeg")
    at.run()
    assert at.error and at.error[0].value.startswith("These 3 photos need"), [e.value for e in at.error]
    assert [e.label for e in at.expander][0] == "cup: 0 photos", "none written: not some of them"
    at.file_uploader(key="build_up_cup_1").upload("one.jpg", photos[0], "image/jpeg")  # Emptied: the class goes on.
    at.run()
    assert [e.label for e in at.expander][0] == "cup: 1 photo" and not at.exception
    assert all("only one class" in e.value for e in at.error), "the refusal is gone; one class is not a dataset yet"


def test_class_project_photos_that_would_not_fit_are_refused_together_and_the_camera_empties(classroom, monkeypatch):
    with_quota(classroom, monkeypatch, "--total-quota-mb")
    project = classroom.new_project(["pen", "cup"])
    at = open_page("pages/project.py")
    at.text_input(key="join_code").input(project.code).run()
    at.button[0].click().run()
    uploader = at.file_uploader(key="project_uploads_0")
    for i, data in enumerate(big_photos()):
        uploader.upload(f"{i}.jpg", data, "image/jpeg")
    at.run()
    assert at.error and "so these 3 photos cannot be kept" in at.error[0].value, [e.value for e in at.error]
    assert project.counts() == {"pen": 0, "cup": 0}, "none added: not some of them"
    at.file_uploader(key="project_uploads_1").upload("one.jpg", big_photos(1)[0], "image/jpeg")  # Emptied.
    at.run()
    assert project.counts() == {"pen": 1, "cup": 0} and not at.error and not at.exception


def test_a_recording_that_would_not_fit_the_quota_is_refused_together(classroom, monkeypatch):
    """The live camera's photos take the same road as uploads: all of them within the quota, or none."""
    import camera
    with_quota(classroom, monkeypatch, "--session-quota-mb")
    recordings = [("cup", named(big_photos())), ("cup", named(big_photos(1)))]  # What WebRTC would deliver.
    monkeypatch.setattr(camera, "recorder_ui", lambda names, key, done=None: recordings.pop(0) if recordings else None)
    at = open_page("pages/grid.py")
    at.radio(key="dataset_source").set_value("Build your own (photos or camera)").run()
    at.text_input(key="new_class_name").input("cup")
    at.button[0].click().run()
    at.toggle(key="build_live").set_value(True).run()
    assert at.error and at.error[0].value.startswith("These 3 photos need"), [e.value for e in at.error]
    assert [e.label for e in at.expander][0] == "cup: 0 photos", "none written: not some of them"
    at.run()
    assert [e.label for e in at.expander][0] == "cup: 1 photo · 1 recording" and not at.exception
    assert at.session_state["build_recorded"].startswith("Added 1 photo to cup. Photos a fifth of a second apart")


def test_a_recording_adds_to_the_class_project_as_its_students_photos(classroom, monkeypatch):
    """Live video into the shared dataset: a few photos at once, marked as this student's, within the quota."""
    import camera
    with_quota(classroom, monkeypatch, "--total-quota-mb")
    classroom.workspace().clear()  # Nothing of earlier tests counts against the 1 MB.
    project = classroom.new_project(["pen", "cup"])
    asked = []

    def recorder(names, key, done=None, counts=camera.RECORD_COUNTS):  # What WebRTC would deliver.
        asked.append((names, counts, done))
        return ("cup", named(big_photos())) if len(asked) == 1 else ("pen", named(big_photos(1))) if len(asked) == 2 \
            else None
    monkeypatch.setattr(camera, "recorder_ui", recorder)
    at = open_page("pages/project.py")
    at.text_input(key="join_code").input(project.code).run()
    at.button[0].click().run()
    at.toggle(key="project_live").set_value(True).run()
    assert at.error and "so these 3 photos cannot be kept" in at.error[0].value, [e.value for e in at.error]
    assert project.counts() == {"pen": 0, "cup": 0}, "none added: not some of them"
    at.run()
    assert project.counts() == {"pen": 1, "cup": 0} and not at.exception
    assert asked[0][:2] == (["pen", "cup"], (5, 10)), "the project's classes; ten photos at most"
    assert asked[-1][2] == "Added 1 photo to pen.", "the recorder says what the last recording added"
    (photo,) = project.photos()["pen"]
    from hubdemo import class_project
    assert project.added_by(photo) == class_project.owner(at.session_state["desk"]), "marked as this student's"
