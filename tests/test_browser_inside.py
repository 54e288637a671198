"""Look inside, in a real browser: a heatmap over a photo, the feature map's points, transfer against scratch, the code."""

import os

import pytest

from browser import browser_page, screenshot, start_training, streamlit_server, wait_for_app_run

SHOTS = os.environ.get("HUBDEMO_SCREENSHOTS")


@pytest.fixture(scope="module")
def app_url(bundled_dir, colours_dir):
    with streamlit_server("--data", str(colours_dir)) as url:
        yield url


def shot(page, tmp_path, name):
    screenshot(page, os.path.join(SHOTS or tmp_path, f"{name}.png"))


def test_a_heatmap_lies_over_the_photo(app_url, tmp_path):
    from playwright.sync_api import expect
    with browser_page() as page:
        page.goto(app_url)
        wait_for_app_run(page)
        page.get_by_text("Where is it looking?").click()
        wait_for_app_run(page)
        expect(page.get_by_test_id("stImage")).to_have_count(2)
        expect(page.get_by_test_id("stImageCaption").filter(has_text="Where it looks for “military uniform”")) \
            .to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        shot(page, tmp_path, "classifier-heatmap")


def test_the_feature_map_shows_a_point_per_photo_and_the_photo_on_hover(app_url, tmp_path):
    from playwright.sync_api import expect
    with browser_page() as page:
        page.goto(f"{app_url}/inside")
        wait_for_app_run(page)
        points = page.locator("[data-testid=stVegaLiteChart] svg g.mark-symbol.role-mark path")  # Not the legend.
        expect(points).to_have_count(36)
        points.nth(5).hover()
        expect(page.locator(".vg-tooltip img")).to_be_visible()
        from make_images import colour_photo
        mine = tmp_path / "mine.png"
        mine.write_bytes(colour_photo((220, 40, 40), seed=11))
        page.locator("input[type=file]").first.set_input_files(str(mine))
        wait_for_app_run(page)
        expect(points).to_have_count(37)  # Its star among the dots, named.
        names = page.locator("[data-testid=stVegaLiteChart] svg g.mark-text.role-mark text")
        expect(names).to_have_text(["your photo", "your photo"])  # The name, over its white halo.
        expect(page.get_by_role("heading", name="Where your photo landed · mine.png")).to_be_visible()
        expect(page.get_by_test_id("stImageCaption").filter(has_text="red · ")).to_have_count(5)
        page.get_by_role("button", name="Draw the learning curve").click()
        wait_for_app_run(page)
        expect(page.get_by_text("With 1 photo per class the new layer is right on")).to_be_visible()
        shot(page, tmp_path, "inside")
    with browser_page(viewport={"width": 390, "height": 844}, is_mobile=True) as phone:
        phone.goto(f"{app_url}/inside")
        wait_for_app_run(phone)
        key = phone.locator("[data-testid=colour-key] > span")
        expect(key).to_have_text(["● blue", "● green", "● red"])  # Every class, under the map.
        edges = [box["x"] + box["width"] for box in (key.nth(i).bounding_box() for i in range(3))]
        assert max(edges) <= 390, f"the key runs off a phone's screen: {edges}"
        shot(phone, tmp_path, "inside-phone")


def test_transfer_and_scratch_curves_are_drawn_together_and_the_code_shows_the_settings(app_url, tmp_path):
    from playwright.sync_api import expect
    with browser_page() as page:
        start_training(page, app_url, epochs=2, batch_size=8)
        expect(page.get_by_role("button", name="Train the same from scratch")).to_be_visible(timeout=120_000)
        page.get_by_text("The code for colours · run 1").click()
        code = page.get_by_test_id("stCode").filter(has_text="EPOCHS = ")
        expect(code).to_contain_text("EPOCHS = 2")
        expect(code).to_contain_text("BATCH_SIZE = 8")
        page.get_by_role("button", name="Train the same from scratch").click()
        expect(page.get_by_role("heading", name="How good is it? · colours · run 2")).to_be_visible(timeout=180_000)
        wait_for_app_run(page)
        expect(page.get_by_test_id("stVegaLiteChart").filter(has_text="run by run")).to_be_visible()
        key = page.get_by_test_id("colour-key")  # Under the chart, which line is which run.
        expect(key).to_contain_text("colours · run 1 (transfer from ImageNet)")
        expect(key).to_contain_text("colours · run 2 (from scratch)")
        expect(page.get_by_text("Transfer against from scratch")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        shot(page, tmp_path, "train-scratch")

        # Its heatmap beside ImageNet's, on a laptop screen: each stays inside its own column.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("button", name="On your photos").click()
        wait_for_app_run(page)
        page.get_by_text("Where is it looking?").click()
        wait_for_app_run(page)
        heat = page.get_by_test_id("stImage").filter(has=page.get_by_text("Where it looks for"))
        expect(heat).to_have_count(2)
        for i in range(2):
            column = heat.nth(i).locator("xpath=ancestor::*[@data-testid='stColumn'][1]").bounding_box()
            picture = heat.nth(i).locator("img").bounding_box()
            assert picture["x"] + picture["width"] <= column["x"] + column["width"] + 1, "not over the next column"
        shot(page, tmp_path, "classifier-scratch-heatmaps")
