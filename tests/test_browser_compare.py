"""Comparing models in a real browser: two feature extractors on a small dataset, side by side."""

import os

from browser import browser_page, open_train_page, screenshot, streamlit_server, wait_for_app_run


def test_two_models_are_compared_on_the_same_photos(bundled_dir, colours_dir, tmp_path):
    from playwright.sync_api import expect
    with streamlit_server("--data", str(colours_dir)) as url, browser_page() as page:
        open_train_page(page, url, epochs=3, batch_size=8)
        picked = page.get_by_test_id("stMultiSelect").filter(has_text="Feature extractors")
        expect(picked).to_contain_text("EfficientNet-Lite0 feature vector")
        expect(picked).to_contain_text("EfficientNet-Lite2 feature vector")
        page.get_by_role("button", name="Compare").click()
        expect(page.get_by_text("was the most accurate")).to_be_visible(timeout=180_000)
        wait_for_app_run(page)
        table = page.get_by_test_id("stDataFrame").last
        expect(table).to_be_visible()
        expect(page.get_by_text("Validation accuracy, run by run").last).to_be_visible()
        for model in ("Lite0", "Lite2"):  # Under the chart, which line is which model.
            expect(page.get_by_test_id("colour-key").last).to_contain_text(model)
        expect(page.get_by_text("All runs this session (2)")).to_be_visible()  # The comparison's runs are kept.
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.get_by_test_id("stMultiSelect").filter(has_text="Feature extractors").scroll_into_view_if_needed()
        screenshot(page, os.environ.get("HUBDEMO_SCREENSHOTS", str(tmp_path)) + "/compare.png")
