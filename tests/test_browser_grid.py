"""The grid page in a real browser, on a fresh server started with ``-- --data`` the real flowers."""

import pytest

from browser import browser_page, streamlit_server, wait_for_app_run


@pytest.fixture(scope="module")
def app_url(bundled_dir, flowers_dir):
    with streamlit_server("--data", str(flowers_dir)) as url:
        yield url


def test_first_visit_to_grid_shows_30_titled_flower_photos(app_url, tmp_path):
    from playwright.sync_api import expect
    with browser_page() as page:
        page.goto(f"{app_url}/grid")  # The server's very first visit is to /grid, not /.
        wait_for_app_run(page)
        expect(page.get_by_role("heading", name="Dataset grid")).to_be_visible()
        # The router's frame ran: its page titles, not the legacy file names.
        expect(page.get_by_test_id("stSidebarNavLink")).to_contain_text(["Classify photos", "Dataset grid", "Train"])
        expect(page.get_by_test_id("stMetricValue").first).to_have_text("600")
        expect(page.get_by_test_id("stPopover")).to_have_count(30)
        expect(page.get_by_test_id("stImage")).to_have_count(30)
        expect(page.get_by_test_id("stPopoverButton").filter(has_text="daisy").first).to_be_visible()

        first_titles = page.get_by_test_id("stPopoverButton").all_inner_texts()
        page.get_by_role("button", name="Next batch").click()
        wait_for_app_run(page)
        expect(page.get_by_text("Batch 2 of 20")).to_be_visible()
        wait_for_app_run(page)
        expect(page.get_by_test_id("stPopover")).to_have_count(30)
        # Retried until the new batch's titles have replaced the old ones.
        expect(page.get_by_test_id("stPopoverButton")).not_to_have_text(first_titles)

        page.get_by_test_id("stPopoverButton").first.click()
        expect(page.get_by_test_id("stPopoverBody")).to_contain_text("True class")
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "grid.png"), full_page=True)


def test_on_a_phone_the_grid_keeps_photos_side_by_side(app_url):
    """Columns would stack one photo per screen on a phone; the grid wraps, two or more a row."""
    from playwright.sync_api import expect
    with browser_page(viewport={"width": 390, "height": 844}, is_mobile=True) as page:
        page.goto(f"{app_url}/grid")
        wait_for_app_run(page)
        photos = page.get_by_test_id("stImage")
        expect(photos).to_have_count(30)
        first, second = photos.nth(0).bounding_box(), photos.nth(1).bounding_box()
        assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"], (first, second)
        assert second["x"] + second["width"] <= 390, "both on the screen"
        buttons = [page.get_by_role("button", name=name).bounding_box() for name in ("Previous", "Next batch", "Shuffle")]
        assert len({round(b["y"]) for b in buttons}) == 1, f"the batch buttons share one line: {buttons}"
