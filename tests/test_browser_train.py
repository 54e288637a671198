"""The training page in a real browser: train, watch the charts grow, read the accuracy, export."""

import re

import pytest

from browser import browser_page, start_training, streamlit_server, wait_for_app_run


@pytest.fixture(scope="module")
def app_url(bundled_dir, colours_dir, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("HUBDEMO_EXPORTS_DIR", str(tmp_path_factory.mktemp("exports")))
    with streamlit_server("--data", str(colours_dir)) as url:
        yield url


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_training_live_then_accuracy_and_a_verified_export(app_url, tmp_path):
    from playwright.sync_api import expect
    with browser_page() as page:
        start_training(page, app_url, epochs=200, batch_size=1)

        progress = page.get_by_test_id("stProgress")
        expect(progress).to_contain_text("Epoch", timeout=60_000)
        charts = page.get_by_test_id("stVegaLiteChart").filter(visible=True)
        expect(charts.first).to_be_visible(timeout=30_000)
        before = charts.first.screenshot()
        first_text = progress.inner_text()
        page.wait_for_timeout(1500)
        assert progress.count() == 1, "still training (6,000 steps)"
        assert charts.first.screenshot() != before, "the curve grew"
        assert progress.inner_text() != first_text, "the progress moved on"
        runs_table = page.locator("[data-testid=stDataFrame] td")  # Glide's accessible copy of the tables' cells.
        expect(runs_table.filter(has_text="training")).to_have_count(1)
        first_row = runs_table.all_inner_texts()
        page.wait_for_timeout(2500)
        assert runs_table.all_inner_texts() != first_row, "the runs table follows the run (epochs, seconds)"
        expect(page.get_by_test_id("stMetricValue").filter(has_text="%").first).to_be_visible(timeout=120_000)
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible()
        expect(page.get_by_test_id("stMetricValue").filter(has_text="100.0%")).to_have_count(1)
        expect(page.get_by_role("button", name="Stop")).to_have_count(0)

        page.get_by_role("button", name="Export run 1").click()
        expect(page.get_by_test_id("stAlert").filter(has_text="Saved to")).to_contain_text(
            "(identical)", timeout=120_000)
        expect(page.get_by_role("button", name="Export run 1")).to_have_count(0)
        expect(page.get_by_test_id("stTable")).to_contain_text("model_quant.tflite")
        expect(page.get_by_test_id("stDownloadButton")).to_have_count(4)  # The notebook, the export, two TFLite.
        with page.expect_download() as download:
            page.get_by_role("button", name="model_quant.tflite + labels.txt").click()
        import zipfile
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert sorted(zipfile.ZipFile(saved).namelist()) == ["labels.txt", "model_quant.tflite"]
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "train.png"), full_page=True)


def test_other_sessions_are_served_while_one_trains_and_stop_keeps_the_model(app_url):
    from playwright.sync_api import expect
    with browser_page() as page:
        start_training(page, app_url, epochs=200, batch_size=1)  # 6,000 steps: time to look around.
        expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch", timeout=60_000)

        other = page.context.browser.new_page()  # A second browser session (a student's laptop).
        other.goto(app_url)
        wait_for_app_run(other)
        expect(other.get_by_role("heading", name="military uniform")).to_be_visible()
        expect(page.get_by_test_id("stProgress")).to_contain_text("Epoch")  # Still training meanwhile.

        page.get_by_role("button", name="Stop").click()
        stopped = page.get_by_text("Stopped early; the model keeps what it learned so far.")
        expect(stopped.first).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible(
            timeout=30_000)
        wait_for_app_run(page)
        expect(stopped).to_have_count(1)  # While the page reran, the fragment's old copy could still show.
        expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_reload_keeps_the_runs_and_a_copied_address_does_not_share_them(app_url):
    from playwright.sync_api import expect
    with browser_page() as page:
        start_training(page, app_url, epochs=2, batch_size=8)
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible(
            timeout=120_000)
        wait_for_app_run(page)
        address = page.url
        assert "?desk=" in address, "the page's address names its desk"

        page.reload()  # F5, or a phone reopening a tab it had put to sleep: a new session, the same desk.
        wait_for_app_run(page)
        assert page.url == address
        expect(page.get_by_role("heading", name="Run 1 · colours")).to_be_visible()
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible()
        expect(page.get_by_role("spinbutton", name="Epochs")).to_have_value("2")  # The settings too.

        other = page.context.browser.new_page()  # The same address in a second tab, while the first holds it.
        other.goto(address)
        wait_for_app_run(other)
        expect(other.get_by_role("heading", name="Run 1 · colours")).to_have_count(0)
        assert "?desk=" in other.url and other.url != address, "a desk of its own"
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(other.get_by_test_id("stException")).to_have_count(0)


def test_a_server_restart_gives_back_the_runs_and_the_photos_built_in_the_browser(bundled_dir, colours_dir, tmp_path):
    """The app stops (a crash, Ctrl-C, the laptop's battery) and starts again: a reload finds its runs (their
    numbers, curves and models), its photos and its settings."""
    from playwright.sync_api import expect
    photos = [str(p) for p in sorted((colours_dir / "red").iterdir())[:3]]
    with browser_page() as page:
        exports = {"HUBDEMO_EXPORTS_DIR": str(tmp_path / "exports")}
        with streamlit_server("--data", str(colours_dir), env=exports) as first:
            start_training(page, first, epochs=2, batch_size=8)
            accuracy = page.get_by_test_id("stMetric").filter(has_text="Validation accuracy")
            expect(accuracy).to_be_visible(timeout=120_000)
            epochs = page.get_by_role("spinbutton", name="Epochs")
            epochs.fill("3")
            epochs.press("Enter")
            page.wait_for_timeout(300)
            wait_for_app_run(page)
            page.get_by_role("button", name="Train").click()  # Run 2, to export.
            expect(page.get_by_role("button", name="Export run 2")).to_be_visible(timeout=120_000)
            page.get_by_role("button", name="Export run 2").click()
            expect(page.get_by_test_id("stAlert").filter(has_text="Saved to")).to_be_visible(timeout=120_000)
            page.get_by_text("Build your own (photos or camera)").click()
            wait_for_app_run(page)
            page.get_by_label("New class name").fill("tomato")
            page.get_by_role("button", name="Add class").click()
            wait_for_app_run(page)
            page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(photos)
            expect(page.get_by_test_id("stExpander").filter(has_text="tomato: 3 photos")).to_have_count(1,
                                                                                                      timeout=30_000)
            desk = page.url.split("?", 1)[1]
        with streamlit_server("--data", str(colours_dir), env=exports) as second:  # Nothing of the first in memory.
            page.goto(f"{second}/train?{desk}")
            wait_for_app_run(page)
            assert page.url.endswith(desk), "its own desk again"
            expect(page.get_by_role("radio", name="Build your own (photos or camera)")).to_be_checked()
            expect(page.get_by_test_id("stExpander").filter(has_text="tomato: 3 photos")).to_have_count(1)
            page.get_by_text("A folder on this computer").click()  # Back to the dataset the runs trained on.
            wait_for_app_run(page)
            expect(page.get_by_text("Run 2 · colours", exact=True)).to_be_visible()
            expect(page.get_by_test_id("stMetric").filter(has_text="Validation accuracy")).to_contain_text("%")
            compared = page.get_by_test_id("stMultiSelect").filter(has_text="Runs to compare")
            for number in (1, 2):  # Both runs, each once: in the table and on the chart.
                expect(compared.get_by_text(f"colours · run {number}", exact=True)).to_have_count(1)
            expect(page.get_by_text("Try colours · run 2", exact=True)).to_be_visible()  # Its model is back too,
            page.get_by_role("button", name="On your photos").click()  # from the weights kept beside the runs.
            wait_for_app_run(page)
            # The sidebar names it whole: what sets it apart from run 1, and its accuracy.
            expect(page.get_by_test_id("stSidebar").get_by_text(re.compile(r"^colours · run 2 \(.+\) · \d+\.\d%$"))
                   ).to_be_visible()
            expect(page.get_by_test_id("stMarkdown").filter(has_text="Your model colours · run 2 beside").first
                   ).to_be_visible()
            expect(page.get_by_test_id("stVegaLiteChart").filter(visible=True).first).to_be_visible()
            page.goto(f"{second}/train?{desk}")  # The earlier run, looked at again: its results, its model.
            wait_for_app_run(page)
            results_of = page.get_by_test_id("stSelectbox").filter(has_text="Show the results of").locator("input")
            run_1 = page.get_by_role("option", name=re.compile(r"^colours · run 1\b.* · \d+\.\d%$"))  # With its accuracy.
            for _ in range(3):  # A rerun just after the reload (the models rebuilt from disk) can close the list.
                results_of.click()
                try:
                    expect(run_1).to_be_visible(timeout=10_000)
                    break
                except AssertionError:
                    page.keyboard.press("Escape")
                    wait_for_app_run(page)
            run_1.click()
            wait_for_app_run(page)
            expect(page.get_by_text("Run 1 · colours", exact=True)).to_be_visible()
            expect(page.get_by_text("How good is it? · colours · run 1", exact=True)).to_be_visible()
            expect(page.get_by_role("button", name="Export run 1")).to_be_visible()
            expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_run_that_ends_in_a_closed_tab_is_back_after_a_restart(bundled_dir, colours_dir):
    """A student presses Train and closes the tab (or the phone sleeps); the run finishes alone; then the app
    restarts. The reload finds it done, with its model: not lost, and not called unfinished."""
    import json
    import time

    from playwright.sync_api import expect

    from browser import chromium
    from hubdemo.workspace import Workspace
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        with streamlit_server("--data", str(colours_dir)) as first:
            start_training(page, first, epochs=3, batch_size=8)
            desk = page.url.split("?", 1)[1]
            page.close()  # Nobody's page will run again on this server.
            runs_file = Workspace().folder(desk.split("=", 1)[1]) / "runs.json"  # Where the desk keeps its runs.
            deadline = time.monotonic() + 180
            while not any(r["status"] == "done" for r in json.loads(runs_file.read_text(encoding="utf-8"))):
                assert time.monotonic() < deadline, "the run's end was never written"
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        with streamlit_server("--data", str(colours_dir)) as second:
            page.goto(f"{second}/train?{desk}")
            wait_for_app_run(page)
            expect(page.get_by_test_id("stMetric").filter(has_text="Validation accuracy")).to_contain_text("%")
            expect(page.get_by_text("Try colours · run 1", exact=True)).to_be_visible()
            expect(page.get_by_text("The app stopped before this run finished")).to_have_count(0)
            expect(page.get_by_test_id("stException")).to_have_count(0)


def test_on_a_phone_the_ten_digits_confusion_matrix_fits_the_screen_and_a_cell_opens_its_photos(bundled_dir):
    """Fixed-width cells ran ten classes off a phone's screen (columns 7 to 9 were cut away)."""
    from playwright.sync_api import expect
    with streamlit_server() as url, browser_page(viewport={"width": 390, "height": 844}, is_mobile=True) as page:
        start_training(page, url, epochs=1, batch_size=64)  # The built-in digits: ten classes.
        expect(page.get_by_role("heading", name="How good is it? · handwritten digits · run 1")).to_be_visible(
            timeout=180_000)
        wait_for_app_run(page)
        chart = page.get_by_test_id("stVegaLiteChart").filter(has_text="Predicted class")
        chart.scroll_into_view_if_needed()
        drawing = chart.locator("svg").first.bounding_box()
        assert drawing["x"] >= 0 and drawing["x"] + drawing["width"] <= 390, f"on the screen: {drawing}"
        page.mouse.click(drawing["x"] + drawing["width"] - 20, drawing["y"] + 20)  # The top right cell: 0 → 9.
        expect(page.get_by_text("of 0 predicted as 9")).to_be_visible()
        wait_for_app_run(page)  # The click's rerun draws the table again: a table found during it is then detached.

        # The runs table's toolbar, shown when it is tapped, sits over the short caption's empty end, not the heading.
        table = page.get_by_test_id("stDataFrame").filter(has_text="Dataset")
        table.scroll_into_view_if_needed()
        table.hover()
        toolbar = [t.bounding_box() for t in page.get_by_test_id("stElementToolbar").all() if t.is_visible()]
        assert toolbar, "touched, the table shows its toolbar"
        words_box = ("e => { const r = document.createRange(); r.selectNodeContents(e); "
                     "const b = r.getBoundingClientRect(); return {x: b.x, y: b.y, width: b.width, height: b.height}; }")
        heading = page.get_by_role("heading", name="All runs this session (1)").evaluate(words_box)  # The words,
        newest = page.get_by_text("Newest first.").evaluate(words_box)  # not their blocks' full width.
        for box in toolbar:
            for words in (heading, newest):
                apart = (box["y"] >= words["y"] + words["height"] or box["y"] + box["height"] <= words["y"]
                         or box["x"] >= words["x"] + words["width"])
                assert apart, f"the toolbar {box} covers words at {words}"
