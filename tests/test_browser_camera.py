"""The live camera in a real browser: Chromium's fake camera plays real photos; the labels follow them."""

import os
import re
import time

import pytest
from PIL import Image

from browser import (browser_page, fake_camera_args, screenshot, start_live_camera, streamlit_server,
                     wait_for_app_run)
from hubdemo import images
from make_images import encode, y4m

SHOTS = os.environ.get("HUBDEMO_SCREENSHOTS")


@pytest.fixture(scope="module")
def app_url(bundled_dir):
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory, flower_photo):
    """Two seconds of Grace Hopper, two of a daisy, two of a grey wall (none of ImageNet's classes), looped by
    Chromium: the guess must change with them."""
    grey = encode(Image.new("RGB", (640, 480), (128, 128, 128)), "JPEG")
    return y4m(tmp_path_factory.mktemp("camera") / "camera.y4m",
               [images.sample_photo(), flower_photo.read_bytes(), grey], frames_each=60)


def readings(page) -> tuple[str, int, float]:
    """The live headline's class, the prediction count and the rate shown beside the video."""
    headline = page.get_by_role("heading", level=4).filter(has_text="%").first.inner_text()
    caption = page.get_by_text("predictions a second").inner_text()
    rate = float(re.search(r"([\d.]+) predictions a second", caption).group(1))
    number = int(re.search(r"prediction ([\d,]+)", caption).group(1).replace(",", ""))
    return headline.split(" · ", 1)[1], number, rate


def test_the_live_camera_classifies_continuously_and_follows_what_it_sees(app_url, camera_video, tmp_path):
    from playwright.sync_api import expect
    with browser_page(*fake_camera_args(camera_video)) as page:
        camera = start_live_camera(page, app_url)
        seen, numbers, rates, unsure = set(), [], [], False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(seen) < 3 or len(numbers) < 8 or not unsure):
            label, number, rate = readings(page)
            seen.add(label)
            numbers.append(number)
            rates.append(rate)
            unsure |= page.get_by_text("Not sure:").count() > 0  # The grey wall: a shrug, and the page says so.
            page.wait_for_timeout(500)
        # Grace Hopper, squeezed to the camera's 4:3 and through the video codec, is a uniform or a vest.
        assert "daisy" in seen and seen & {"military uniform", "bulletproof vest"}, f"follows the picture: {seen}"
        assert unsure, f"a grey wall's best guess is called unsure: {seen}"
        assert numbers == sorted(numbers) and numbers[-1] > numbers[0] + 10, "predictions keep coming"
        assert max(rates) >= 5, f"several predictions a second: {rates}"
        # The label is drawn on the video itself too: the picture coming back is not the camera's alone.
        expect(camera.locator("video")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, os.path.join(SHOTS or tmp_path, "camera-live.png"))

        # Where is it looking, live: heatmaps over the video, without restarting the camera.
        page.get_by_text("Where is it looking?").click()
        expect(page.get_by_text("heatmaps a second")).to_be_visible(timeout=60_000)
        before = readings(page)[1]
        page.wait_for_timeout(2500)
        heat_rate = float(re.search(r"Grad-CAM, ([\d.]+) heatmaps a second",
                                    page.get_by_text("heatmaps a second").inner_text()).group(1))
        assert heat_rate >= 2 and readings(page)[1] > before + 5, "heatmaps and predictions keep coming"
        expect(camera.get_by_role("button", name="Stop")).to_be_visible()
        screenshot(page, os.path.join(SHOTS or tmp_path, "camera-live-heat.png"))
        camera.get_by_role("button", name="Stop").click()
        expect(page.get_by_text("Press Start the camera")).to_be_visible(timeout=30_000)


def test_two_live_cameras_share_the_servers_predictions(app_url, camera_video):
    """Two students' cameras on one server: each says it shares, and together they stay within one camera's rate."""
    from playwright.sync_api import expect

    from browser import chromium
    with chromium(*fake_camera_args(camera_video)) as browser:
        pages = [browser.new_page(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
        for page in pages:
            start_live_camera(page, app_url)
        for page in pages:
            expect(page.get_by_text("2 live cameras share this server's predictions now")).to_be_visible(
                timeout=60_000)
        before = [readings(page)[1] for page in pages]
        page.wait_for_timeout(3000)  # Both well under way.
        after = [readings(page) for page in pages]
        assert all(number > earlier for (_label, number, _rate), earlier in zip(after, before)), \
            f"both cameras are answered: predictions {before} then {[r[1] for r in after]}"
        # How many each gets depends on the machine's load (two browsers encode video here): bench/live_camera.py
        # --cameras measures it. What sharing promises is that together they stay within one camera's budget.
        rates = [rate for _label, _number, rate in after]
        assert sum(rates) <= 15 * 1.2, f"one camera's budget, shared: {rates}"
        pages[1].frame_locator("iframe").first.get_by_role("button", name="Stop").click()
        expect(pages[0].get_by_text("live cameras share")).to_have_count(0, timeout=30_000)  # Its share comes back.


def test_recording_from_the_live_camera_adds_many_photos_to_a_class(app_url, camera_video, tmp_path):
    """Build your own: pick a class, press Record, and the camera's frames become that class's photos."""
    from playwright.sync_api import expect
    with browser_page(*fake_camera_args(camera_video)) as page:
        page.goto(f"{app_url}/train")
        wait_for_app_run(page)
        page.get_by_text("Build your own (photos or camera)").click()
        wait_for_app_run(page)
        for name in ("hopper", "daisy"):
            page.get_by_label("New class name").fill(name)
            page.get_by_role("button", name="Add class").click()
            page.wait_for_timeout(500)
            wait_for_app_run(page)
        page.get_by_text("Record from the live camera").click()
        wait_for_app_run(page)
        record = page.get_by_role("button", name="Record 20 photos")
        expect(record).to_be_disabled()  # Until the video plays.
        page.frame_locator("iframe").first.get_by_role("button", name="Start the camera").click()
        expect(record).to_be_enabled(timeout=60_000)
        page.get_by_test_id("stButtonGroup").get_by_text("10", exact=True).click()
        wait_for_app_run(page)
        page.get_by_test_id("stSelectbox").filter(has_text="Record photos of").click()
        page.get_by_role("option", name="hopper").click()
        wait_for_app_run(page)
        started = time.monotonic()
        page.get_by_role("button", name="Record 10 photos").click()
        expect(page.get_by_text("Added 10 photos to hopper.")).to_be_visible(timeout=60_000)
        took = time.monotonic() - started
        wait_for_app_run(page)
        # Ten photos in about two seconds (five a second), in the class chosen, on disk, with thumbnails.
        assert 1.5 < took < 20, took
        expect(page.get_by_test_id("stExpander").filter(has_text="hopper: 10 photos · 1 recording")).to_have_count(1)
        expect(page.get_by_test_id("stExpander").filter(has_text="daisy: 0 photos")).to_have_count(1)
        expect(page.get_by_role("button", name="Record 10 photos")).to_be_enabled()  # The video played on.
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, os.path.join(SHOTS or tmp_path, "camera-record.png"))
