"""The classifier page in a real browser: open it, drop in photos, read what it shows."""

import pytest

from browser import browser_page, streamlit_server, wait_for_app_run


@pytest.fixture(scope="module")
def app_url(bundled_dir):
    with streamlit_server() as url:
        yield url


@pytest.fixture
def page(app_url):
    with browser_page() as page:
        page.goto(app_url)
        wait_for_app_run(page)
        yield page


def test_first_visit_shows_grace_hopper_as_military_uniform(page):
    from playwright.sync_api import expect
    expect(page.get_by_role("heading", name="What does a model see in your photos?")).to_be_visible()
    expect(page.get_by_role("heading", name="military uniform")).to_be_visible()
    expect(page.get_by_test_id("stImage")).to_have_count(1)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(1)


def test_uploading_photos_shows_their_predictions_and_a_clear_message_for_a_broken_file(page, flower_photo, tmp_path):
    from playwright.sync_api import expect
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not a photo")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(flower_photo), str(broken)])
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="daisy")).to_be_visible()
    alert = page.get_by_test_id("stAlert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("broken.jpg is damaged or truncated")
    expect(page.get_by_role("heading", name="military uniform")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "classifier.png"), full_page=True)


def test_no_page_asks_anything_of_the_internet(app_url):
    """Offline laptops, and tests that talk only to localhost: every request of every page goes to this server
    (a page's Material icon as the tab's icon was fetched from Google's font server)."""
    outside = []
    with browser_page() as page:
        page.on("request", lambda r: None if r.url.startswith((app_url, "data:", "blob:")) else outside.append(r.url))
        for path in ("", "/grid", "/train", "/inside"):
            page.goto(app_url + path)
            wait_for_app_run(page)
            page.wait_for_timeout(1000)  # The tab's icon is set after the page's first run.
    assert outside == []
