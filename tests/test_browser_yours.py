"""Your model everywhere, in a real browser: train, try it beside ImageNet, export it, reopen it on a fresh server."""

import os
import re
import zipfile

import pytest

from browser import browser_page, screenshot, start_training, streamlit_server, wait_for_app_run
from make_images import colour_dataset, colour_photo

SHOTS = os.environ.get("HUBDEMO_SCREENSHOTS")  # A folder to keep the screenshots in, to look at them.


def shot(page, tmp_path, name):
    screenshot(page, os.path.join(SHOTS or tmp_path, f"{name}.png"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def app_url(bundled_dir, colours_dir, exports):
    with streamlit_server("--data", str(colours_dir), env={"HUBDEMO_EXPORTS_DIR": str(exports)}) as url:
        yield url


@pytest.fixture(scope="module")
def trained(app_url, tmp_path_factory):
    """Train once on the colours and download the whole export: ``(zip path, photo of a red thing)``."""
    from playwright.sync_api import expect
    folder = tmp_path_factory.mktemp("downloads")
    with browser_page() as page:
        start_training(page, app_url, epochs=3, batch_size=8)
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible(
            timeout=120_000)
        page.get_by_role("button", name="Export run 1").click()
        expect(page.get_by_test_id("stAlert").filter(has_text="Saved to")).to_be_visible(timeout=120_000)
        with page.expect_download() as download:
            page.get_by_role("button", name="The whole export (.zip)").click()
        archive = folder / download.value.suggested_filename
        download.value.save_as(archive)
    red = folder / "red_thing.png"
    red.write_bytes(colour_photo((220, 40, 40), seed=77))
    return archive, red


def test_a_trained_run_answers_beside_imagenet_on_the_classifier_page(app_url, trained, tmp_path):
    from playwright.sync_api import expect
    _, red = trained
    with browser_page() as page:
        page.goto(f"{app_url}/train")  # A new session: the run belongs to the first one.
        wait_for_app_run(page)
        expect(page.get_by_role("button", name="On your photos", exact=True)).to_have_count(0)
    # The same session that trained: its run is in the picker.
    with browser_page() as page:
        start_training(page, app_url, epochs=3, batch_size=8)
        expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation accuracy")).to_be_visible(
            timeout=120_000)
        shot(page, tmp_path, "train-after-run")
        page.get_by_role("button", name="On your photos", exact=True).click()
        wait_for_app_run(page)
        expect(page.get_by_role("combobox", name="Model")).to_have_value(re.compile(r"^Yours: colours · run 1 · \d+\.\d%$"))
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(red))
        wait_for_app_run(page)
        headlines = page.get_by_role("heading", level=3)
        # Until the upload's result replaces the sample's, both may be on the page for a moment.
        expect(page.get_by_text("red_thing.png").last).to_be_visible()
        expect(headlines).to_have_count(2)
        expect(page.get_by_text("Your model colours · run 1 says")).to_have_count(1)
        expect(page.get_by_text("ImageNet's EfficientNet-Lite0 says")).to_have_count(1)
        # Your model names its own class (the photo's, not the sample's shown until the upload arrives).
        expect(headlines.nth(1)).to_have_text(re.compile(r"· red$"))
        expect(page.get_by_test_id("stException")).to_have_count(0)
        shot(page, tmp_path, "classifier-yours")


def test_changing_the_dataset_after_a_run_folds_its_results_away(app_url, tmp_path):
    from playwright.sync_api import expect
    other = colour_dataset(tmp_path / "shades", per_class=4, classes={"dark": (30, 30, 30),
                                                                        "light": (230, 230, 230)})
    with browser_page() as page:
        start_training(page, app_url, epochs=2, batch_size=8)
        heading = page.get_by_role("heading", name="How good is it? · colours · run 1")
        expect(heading).to_be_visible(timeout=120_000)
        box = page.get_by_role("textbox", name="Folder path")
        box.fill(str(other))
        box.press("Enter")
        wait_for_app_run(page)
        expect(page.get_by_test_id("stAlert").filter(has_text="made with other data or settings")).to_contain_text(
            "the dataset (now shades, 8 photos)")
        expect(heading).not_to_be_visible()  # Folded away in a closed expander, not shown as current.
        expect(page.get_by_test_id("stExpander").filter(has_text="Results of colours · run 1")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        shot(page, tmp_path, "train-stale")


def test_an_export_zip_reopened_on_a_fresh_server_classifies_a_photo(trained, bundled_dir, tmp_path):
    from playwright.sync_api import expect
    archive, red = trained
    assert "saved_model.pb" in " ".join(zipfile.ZipFile(archive).namelist())
    with streamlit_server(env={"HUBDEMO_CACHE_DIR": str(tmp_path / "another-computer")}) as fresh:
        with browser_page() as page:
            page.goto(fresh)
            wait_for_app_run(page)
            page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
            page.get_by_role("option", name="Open a saved model (an export folder or .zip)…").click()
            wait_for_app_run(page)
            page.get_by_text("Upload its .zip").click()
            wait_for_app_run(page)
            sidebar = page.get_by_test_id("stSidebar")
            sidebar.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(archive))
            wait_for_app_run(page)
            expect(page.get_by_role("combobox", name="Model")).to_have_value(re.compile(r"^Yours: colours · run 1 \(saved"))
            page.get_by_test_id("stMain").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(red))
            wait_for_app_run(page)
            headlines = page.get_by_role("heading", level=3)
            expect(headlines).to_have_count(2)
            expect(headlines.nth(1)).to_have_text(re.compile(r"· red$"))  # Once the upload's result is in.
            expect(page.get_by_test_id("stException")).to_have_count(0)
            shot(page, tmp_path, "classifier-reopened")
