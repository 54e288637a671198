"""Classroom mode in real browsers: HTTPS, each student in their own room, a class project from a phone,
and a training run killed mid-way that takes nothing else with it."""

import os
import re
import signal
import zipfile
from pathlib import Path

import psutil
import pytest

from browser import (chromium, fake_camera_args, screenshot, start_live_camera, start_training, streamlit_server,
                     wait_for_app_run)
from hubdemo import images, paths
from hubdemo import scratch as hubdemo_scratch
from make_images import y4m

SHOTS = os.environ.get("HUBDEMO_SCREENSHOTS")
DESKTOP = {"viewport": {"width": 1400, "height": 1000}, "ignore_https_errors": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "ignore_https_errors": True}


@pytest.fixture(scope="module")
def classroom(bundled_dir, colours_dir):
    with streamlit_server("--classroom", "--data", str(colours_dir), "--passphrase", "tulip",
                          "--trainers", "1") as url:
        yield url


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory):
    return y4m(tmp_path_factory.mktemp("phone") / "phone.y4m", [images.sample_photo()], frames_each=30)


def type_folder(page, folder) -> None:
    box = page.get_by_role("textbox", name="Folder path")
    box.fill(str(folder))
    box.press("Enter")
    wait_for_app_run(page)


def session_folders() -> set[str]:
    root = paths.workspace_dir() / "sessions"
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def test_https_and_each_student_in_their_own_room(classroom, colours_dir, tmp_path):
    from playwright.sync_api import expect
    assert classroom.startswith("https://")
    with chromium() as browser:
        anna = browser.new_page(**DESKTOP)
        start_training(anna, classroom, epochs=3, batch_size=8)  # The teacher's --data folder: allowed.
        expect(anna.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible(
            timeout=180_000)
        anna.get_by_role("button", name="Export run 1").click()
        expect(anna.get_by_test_id("stAlert").filter(has_text="Saved for you")).to_contain_text(
            "(identical)", timeout=180_000)
        assert str(paths.cache_dir()) not in anna.get_by_test_id("stMain").inner_text(), "no server path shown"
        anna_folders = session_folders()
        exports = [p for sid in anna_folders for p in (paths.workspace_dir() / "sessions" / sid / "exports").glob("*")]
        assert len(exports) == 1 and (exports[0] / "saved_model.pb").is_file(), "the export is in Anna's own folder"

        ben = browser.new_page(**DESKTOP)
        ben.goto(f"{classroom}/train")
        wait_for_app_run(ben)
        for outside in ("/etc", colours_dir / ".." / "..", exports[0], paths.cache_dir()):
            type_folder(ben, outside)
            expect(ben.get_by_test_id("stAlert").filter(has_text=f"'{outside}' is not one of them")).to_contain_text(
                "In this classroom, a dataset can only come from the teacher's folders", timeout=20_000)
        expect(ben.get_by_text("All runs this session")).to_have_count(0)  # Anna's run is not Ben's.
        ben.goto(f"{classroom}/")
        wait_for_app_run(ben)
        ben.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Model").click()
        options = ben.get_by_role("option").all_inner_texts()
        assert not any("run 1" in o for o in options), options
        assert any("Open a saved model" in o for o in options)
        ben.get_by_role("option", name=re.compile("Open a saved model")).click()
        wait_for_app_run(ben)
        box = ben.get_by_role("textbox", name="Export folder")
        box.fill(str(exports[0]))
        ben.get_by_role("button", name="Open", exact=True).filter(has_text="Open").click()
        expect(ben.get_by_test_id("stAlert").filter(has_text="saved models can only come from the teacher's folders")
               ).to_be_visible(timeout=20_000)
        if SHOTS:
            screenshot(ben, Path(SHOTS) / "classroom-refused.png")
        expect(ben.get_by_test_id("stException")).to_have_count(0)
        expect(anna.get_by_test_id("stException")).to_have_count(0)


def test_a_phone_joins_the_class_project_and_adds_a_photo(classroom, camera_video):
    from playwright.sync_api import expect
    with chromium(*fake_camera_args(camera_video)) as browser:
        teacher = browser.new_page(**DESKTOP)
        teacher.goto(f"{classroom}/teacher")
        wait_for_app_run(teacher)
        teacher.get_by_label("Passphrase").fill("wrong")
        teacher.get_by_role("button", name="Open the teacher's page").click()
        expect(teacher.get_by_text("That is not the passphrase")).to_be_visible(timeout=20_000)
        teacher.get_by_label("Passphrase").fill("tulip")
        teacher.get_by_role("button", name="Open the teacher's page").click()
        expect(teacher.get_by_label("Classes, separated by commas")).to_be_visible(timeout=20_000)
        teacher.get_by_label("Classes, separated by commas").fill("pen, cup 杯子 ☕")
        teacher.get_by_role("button", name=re.compile("Start")).click()
        wait_for_app_run(teacher)
        expect(teacher.get_by_text("Class project code")).to_be_visible(timeout=20_000)
        code = re.search(r"Class project code: ?\s*([A-Z0-9]{4})", teacher.get_by_test_id("stMain").inner_text()).group(1)

        phone = browser.new_page(**PHONE)
        phone.goto(f"{classroom}/project?join={code}")
        wait_for_app_run(phone)
        phone.get_by_role("textbox", name=re.compile("Your name")).fill("Mei")
        phone.get_by_role("button", name="Join").click()
        wait_for_app_run(phone)
        expect(phone.get_by_text(f"You are in class project {code}")).to_be_visible()
        if SHOTS:
            screenshot(phone, Path(SHOTS) / "classroom-phone-joined.png")
        for _tap in range(2):  # Tapped again, the chosen class stays chosen: the camera does not go away.
            phone.get_by_test_id("stButtonGroup").get_by_text("cup 杯子 ☕").click()
            wait_for_app_run(phone)
        take = phone.get_by_role("button", name="Take Photo")
        expect(take).to_be_enabled(timeout=30_000)
        take.click()
        wait_for_app_run(phone)
        if SHOTS:
            screenshot(phone, Path(SHOTS) / "classroom-phone-shot.png")
        expect(phone.get_by_text("You added 1 photo.")).to_be_visible(timeout=30_000)
        if SHOTS:
            screenshot(phone, Path(SHOTS) / "classroom-phone.png")
        # The teacher's page counts it (refreshed every two seconds), with the student's name.
        expect(teacher.get_by_text("cup 杯子 ☕: 1 photo")).to_be_visible(timeout=15_000)
        # And who is here, without the teacher touching the page (it last ran before Mei came).
        expect(teacher.get_by_text("2 sessions connected: The teacher and Mei.")).to_be_visible(timeout=15_000)
        if SHOTS:
            screenshot(teacher, Path(SHOTS) / "classroom-teacher.png")
        with teacher.expect_download() as kept:  # The class's photos, to keep after the lesson.
            teacher.get_by_role("button", name="Keep the class's photos (.zip)").click()
        assert kept.value.suggested_filename == f"class_project_{code}.zip"
        with zipfile.ZipFile(kept.value.path()) as photos:
            (name,) = photos.namelist()
        assert re.fullmatch(r"cup 杯子 ☕/0000\.\w+", name), "a folder per class; the photo, not who took it"

        phone.reload()  # The phone reopens the tab it had put to sleep: the same desk, still in the project.
        wait_for_app_run(phone)
        expect(phone.get_by_text(f"You are in class project {code}")).to_be_visible()
        expect(phone.get_by_text("You added 1 photo.")).to_be_visible()
        teacher.reload()  # The teacher's unlock is not kept in the address: the passphrase is asked again.
        wait_for_app_run(teacher)
        expect(teacher.get_by_label("Passphrase")).to_be_visible()
        take = phone.get_by_role("button", name="Take Photo")  # A second photo: side by side with the first.
        expect(take).to_be_enabled(timeout=30_000)
        take.click()
        expect(phone.get_by_text("You added 2 photos.")).to_be_visible(timeout=30_000)
        first, second = (b.bounding_box() for b in phone.get_by_role("button", name="Take back").all())
        # Side by side, not stacked (their heights may differ while a thumbnail still loads).
        assert second["x"] > first["x"] + first["width"], (first, second)
        expect(phone.get_by_test_id("stException")).to_have_count(0)
        phone.close()  # Mei closes the tab: her desk waits (a reload would take it up), and the teacher is told.
        teacher.get_by_label("Passphrase").fill("tulip")
        teacher.get_by_role("button", name="Open the teacher's page").click()
        expect(teacher.get_by_text(re.compile(r"\d+ sessions? closed in the last 30 minutes: their runs stay here"))
               ).to_be_visible(timeout=20_000)
        expect(teacher.get_by_test_id("stException")).to_have_count(0)


def trainer_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if "hubdemo.trainers" in " ".join(p.info["cmdline"] or [])]


def test_a_training_run_killed_midway_leaves_the_server_and_the_others_working(classroom):
    from playwright.sync_api import expect
    with chromium() as browser:
        carl = browser.new_page(**DESKTOP)
        start_training(carl, classroom, epochs=200, batch_size=1)
        expect(carl.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=120_000)
        # One run trains at a time here (--trainers 1): the next student waits, sees their place, and can cancel.
        erin = browser.new_page(**DESKTOP)
        start_training(erin, classroom, epochs=2, batch_size=8)
        expect(erin.get_by_test_id("stProgress")).to_contain_text("Waiting for a free trainer: 1 of 1 in the queue")
        erin.get_by_role("button", name="Cancel").click()
        expect(erin.get_by_text("Cancelled while waiting for a trainer: nothing was trained.")).to_be_visible(
            timeout=20_000)
        if SHOTS:
            screenshot(erin, Path(SHOTS) / "classroom-cancelled.png")
        workers = trainer_processes()
        assert workers, "training runs in a worker process"
        for worker in workers:
            worker.send_signal(signal.SIGKILL)  # As the kernel does when memory runs out.
        expect(carl.get_by_test_id("stAlert").filter(has_text="The training process stopped unexpectedly").first
               ).to_contain_text("killed", timeout=30_000)
        carl.wait_for_timeout(2000)
        expect(carl.get_by_test_id("stAlert").filter(has_text="The training process stopped unexpectedly")).to_have_count(1)
        if SHOTS:
            screenshot(carl, Path(SHOTS) / "classroom-killed.png")
        expect(carl.get_by_role("button", name="Train")).to_be_enabled()

        dana = browser.new_page(**DESKTOP)
        dana.goto(classroom)
        wait_for_app_run(dana)
        expect(dana.get_by_text("military uniform").first).to_be_visible(timeout=60_000)  # The sample photo.
        start_training(carl, classroom, epochs=2, batch_size=8)  # A new worker takes the next run.
        expect(carl.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible(
            timeout=180_000)
        expect(carl.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.parametrize("language, lines", [
    ("C.UTF-8", ["starting again with HTTPS for the school network (not the address above)",
                 "Students open https://", "Teacher's page: https://", "passphrase: tulip"]),
    ("zh_CN.UTF-8", ["正在以 HTTPS 为学校网络重新启动（不是上面的地址）", "学生打开 https://", "教师页面：https://",
                     "口令：tulip"])], ids=["English", "简体中文"])
def test_the_teachers_terminal_says_how_the_class_joins_in_its_language(bundled_dir, colours_dir, language, lines):
    """What the teacher reads when the class starts: Streamlit's own plain-http address first (printed before
    the app can restart it with HTTPS), then the class's address, the passphrase and a QR code of the address."""
    said = []
    with streamlit_server("--classroom", "--data", str(colours_dir), "--passphrase", "tulip", "--trainers", "1",
                          env={"LANG": language, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}, output=said):
        pass
    text = "\n".join(said)
    for line in lines:
        assert line in text, text[-3000:]
    assert re.search(r"https://\S+:\d+/teacher", text) and "▄▄▄▄▄" in text, "the address and its QR code"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl+C", "kill"])
def test_a_stopped_classroom_takes_its_training_workers_and_their_files_along(bundled_dir, colours_dir, stop):
    """Workers are killed, never exit on their own: their temp folder (TensorFlow's autograph files) goes too."""
    import time
    scratch = hubdemo_scratch.root()
    before = set(scratch.glob("*-*"))
    with streamlit_server("--classroom", "--data", str(colours_dir), "--passphrase", "tulip", "--trainers", "1",
                          stop=stop):
        deadline, workers = time.monotonic() + 120, []
        while not workers:  # The warm-up starts the class's worker, with its scratch folder named for the server.
            assert time.monotonic() < deadline, "no training worker started"
            time.sleep(0.5)
            for folder in set(scratch.glob("*-*")) - before:
                workers = psutil.Process(int(folder.name.split("-")[0])).children()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "the server stopped its workers"
    assert not folder.exists(), "and removed their files"


def test_a_restart_keeps_the_class_project_and_who_joined_it(bundled_dir, colours_dir):
    """The teacher's laptop restarts mid-lesson: the same code, the photos, and the phones still in the project."""
    import shutil

    from playwright.sync_api import expect
    # A project an earlier test left on disk would be taken up (as a restart should): start from none.
    shutil.rmtree(paths.workspace_dir() / "class-projects", ignore_errors=True)
    args = ("--classroom", "--data", str(colours_dir), "--passphrase", "tulip")
    photo = sorted((colours_dir / "red").iterdir())[0]
    with chromium() as browser:
        teacher, phone = browser.new_page(**DESKTOP), browser.new_page(**PHONE)
        with streamlit_server(*args) as first:
            teacher.goto(f"{first}/teacher")
            wait_for_app_run(teacher)
            teacher.get_by_label("Passphrase").fill("tulip")
            teacher.get_by_role("button", name="Open the teacher's page").click()
            teacher.get_by_label("Classes, separated by commas").fill("pen, cup")
            teacher.get_by_role("button", name=re.compile("Start")).click()
            expect(teacher.get_by_text("Class project code")).to_be_visible(timeout=20_000)
            code = re.search(r"Class project code: ?\s*([A-Z0-9]{4})",
                             teacher.get_by_test_id("stMain").inner_text()).group(1)
            phone.goto(f"{first}/project?join={code}")
            wait_for_app_run(phone)
            phone.get_by_role("textbox", name=re.compile("Your name")).fill("Mei")
            phone.get_by_role("button", name="Join").click()
            expect(phone.get_by_text(f"You are in class project {code}")).to_be_visible(timeout=20_000)
            # The first class is chosen: its uploader is there once the page has run (a class picked now would
            # rerun the page under the upload and take it away).
            expect(phone.get_by_text("Or photos of pen from your gallery")).to_be_visible(timeout=20_000)
            wait_for_app_run(phone)
            phone.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
            expect(phone.get_by_text("You added 1 photo.")).to_be_visible(timeout=30_000)
            desk = phone.url.split("?", 1)[1]
        with streamlit_server(*args) as second:  # Another process: nothing of the first in memory.
            phone.goto(f"{second}/project?{desk}")
            wait_for_app_run(phone)
            expect(phone.get_by_text(f"You are in class project {code}")).to_be_visible(timeout=20_000)
            expect(phone.get_by_role("button", name="Join")).to_have_count(0)
            teacher.goto(f"{second}/teacher")
            wait_for_app_run(teacher)
            teacher.get_by_label("Passphrase").fill("tulip")
            teacher.get_by_role("button", name="Open the teacher's page").click()
            expect(teacher.get_by_text(f"Class project code: {code}")).to_be_visible(timeout=20_000)
            expect(teacher.get_by_test_id("stMain")).to_contain_text("Mei")  # Her photo, under her name.
            expect(teacher.get_by_test_id("stException")).to_have_count(0)


def test_the_class_model_reaches_the_phones_and_outlives_a_restart(bundled_dir, colours_dir):
    """The lesson's end: the teacher trains on the class's photos, a phone tries the class model; the laptop
    restarts, the teacher's page is back, and the phone can try the same model again."""
    import shutil

    from playwright.sync_api import expect

    from hubdemo.class_project import ClassProject
    root = paths.workspace_dir() / "class-projects"
    shutil.rmtree(root, ignore_errors=True)
    project = ClassProject.create(root, ["red", "blue"])  # The students' photos, as their phones added them.
    for name in project.class_names:
        for i, photo in enumerate(sorted((colours_dir / name).iterdir())[:6]):
            project.add_photo(name, f"p{i}", photo.name, photo.read_bytes(), by="student1")
    args = ("--classroom", "--data", str(colours_dir), "--passphrase", "tulip", "--trainers", "1")

    def unlock(teacher):
        wait_for_app_run(teacher)
        teacher.get_by_label("Passphrase").fill("tulip")
        teacher.get_by_role("button", name="Open the teacher's page").click()
        expect(teacher.get_by_text(f"Class project code: {project.code}")).to_be_visible(timeout=20_000)

    def try_the_class_model(phone):
        phone.get_by_role("button", name=re.compile(r"Try the class model")).click()
        wait_for_app_run(phone)
        says = phone.get_by_text(f"Your model class project {project.code} · run 1 (the class's) says")
        expect(says.first).to_be_visible(timeout=60_000)
        expect(phone.get_by_test_id("stException")).to_have_count(0)

    with chromium() as browser:
        teacher, phone = browser.new_page(**DESKTOP), browser.new_page(**PHONE)
        with streamlit_server(*args) as first:
            teacher.goto(f"{first}/teacher")
            unlock(teacher)
            teacher.get_by_role("button", name="Train on the class's photos").click()
            wait_for_app_run(teacher)
            epochs = teacher.get_by_role("spinbutton", name="Epochs")
            epochs.fill("3")
            epochs.press("Enter")
            wait_for_app_run(teacher)
            teacher.get_by_role("button", name="Train").click()
            expect(teacher.get_by_test_id("stMetric").filter(has_text="Validation accuracy")).to_be_visible(
                timeout=180_000)
            teacher_desk = teacher.url.split("?", 1)[1]
            phone.goto(f"{first}/project?join={project.code}")
            wait_for_app_run(phone)
            phone.get_by_role("textbox", name=re.compile("Your name")).fill("Mei")
            phone.get_by_role("button", name="Join").click()
            expect(phone.get_by_text(f"You are in class project {project.code}")).to_be_visible(timeout=20_000)
            try_the_class_model(phone)
            phone_desk = phone.url.split("?", 1)[1]
        with streamlit_server(*args) as second:  # Another process: nothing of the first in memory.
            phone.goto(f"{second}/project?{phone_desk}")
            wait_for_app_run(phone)
            expect(phone.get_by_text("When the teacher has trained on everyone's photos")).to_be_visible()
            projected = f"The teacher · class project {project.code} · run 1"  # Its run, under the teacher's name.
            # Every run of the last lesson is on the teacher's page at once, before its tab comes back.
            other = browser.new_page(**DESKTOP)
            other.goto(f"{second}/teacher")
            unlock(other)
            expect(other.get_by_test_id("stMain")).to_contain_text(projected)
            other.get_by_test_id("stButtonGroup").get_by_text(projected).click()  # Shown to the class:
            wait_for_app_run(other)
            expect(other.get_by_text("Confusion matrix")).to_be_visible()  # its curves and results,
            expect(other.get_by_text(re.compile(r"\d+ epochs · batch size \d+ · .*EfficientNet-Lite0"))).to_be_visible()  # and what made them.
            expect(other.get_by_test_id("stVegaLiteChart").filter(has_text="Training step").first).to_be_visible()
            other.close()
            teacher.goto(f"{second}/teacher?{teacher_desk}")  # The teacher reloads their tab: the same desk,
            unlock(teacher)  # and the passphrase again (an address never carries the unlock).
            expect(teacher.get_by_test_id("stMain")).to_contain_text(projected)
            phone.reload()
            wait_for_app_run(phone)
            try_the_class_model(phone)
    shutil.rmtree(root, ignore_errors=True)


def test_a_phones_live_camera_sends_the_classroom_its_smaller_video(classroom, camera_video):
    """Every camera's frames are decoded and encoded on the teacher's laptop: in a classroom a phone sends
    480×360 at 15 frames a second, not 640×480 at 30 (camera.CLASSROOM_VIDEO)."""
    with chromium(*fake_camera_args(camera_video)) as browser:
        video = start_live_camera(browser.new_page(**PHONE), classroom)
        size = video.locator("video").evaluate("v => [v.videoWidth, v.videoHeight]")
        assert size == [480, 360], size
        video.get_by_role("button", name="Stop").click()
