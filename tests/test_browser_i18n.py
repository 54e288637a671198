"""Languages in a real browser: a zh-CN browser opens in 简体中文, the sidebar switches and the choice is kept."""

import os

import pytest

from browser import chromium, screenshot, streamlit_server, wait_for_app_run


@pytest.fixture(scope="module")
def app_url(bundled_dir, colours_dir):
    with streamlit_server("--data", str(colours_dir)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_a_chinese_browser_gets_chinese_pages_and_an_english_one_english_at_the_same_time(app_url, browser, tmp_path):
    from playwright.sync_api import expect
    chinese = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})  # navigator.language, Accept-Language: zh-CN
    english = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
    chinese.goto(app_url)
    english.goto(app_url)
    wait_for_app_run(chinese)
    wait_for_app_run(english)
    expect(chinese.get_by_role("heading", name="模型在你的照片里看到了什么？")).to_be_visible()
    expect(chinese.get_by_test_id("stSidebarNav")).to_contain_text("识别照片")
    expect(chinese.get_by_test_id("stSidebarNav")).to_contain_text("深入观察")
    expect(chinese.get_by_role("heading", name="military uniform")).to_be_visible()  # ImageNet's names stay English.
    expect(chinese.get_by_text("ImageNet 的 **EfficientNet-Lite0** 说".replace("**", ""))).to_have_count(0)
    expect(english.get_by_role("heading", name="What does a model see in your photos?")).to_be_visible()
    # Streamlit's own uploader says its words in Chinese too (in CSS, in place of its English), and only there.
    upload = '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p'
    limit = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    assert generated(chinese, upload) == '"上传"' and generated(chinese, limit) == '"每个文件最多 200 MB"'
    expect(chinese.get_by_role("button", name="上传")).to_be_visible()  # What a screen reader says, too.
    assert generated(english, upload) == "none" and english.locator(upload).inner_text() == "Upload"
    screenshot(chinese, os.environ.get("HUBDEMO_SCREENSHOTS", str(tmp_path)) + "/zh-classifier.png")
    chinese.get_by_text("摄像头快照").click()
    wait_for_app_run(chinese)
    camera = chinese.locator('[data-testid="stCameraInputWebcamComponent"] [data-testid="stCameraInputButton"]')
    expect(camera).to_be_attached(timeout=60_000)
    assert generated(chinese, '[data-testid="stCameraInputWebcamComponent"] [data-testid="stCameraInputButton"]') \
        == '"拍照"'
    chinese.get_by_text("上传照片").click()
    wait_for_app_run(chinese)

    chinese.get_by_test_id("stSidebarNav").get_by_text("训练").click()
    wait_for_app_run(chinese)
    expect(chinese.get_by_role("heading", name="教模型认识你自己的类别")).to_be_visible()
    chinese.get_by_role("button", name="训练", exact=True).click()
    expect(chinese.get_by_test_id("stMetricLabel").filter(has_text="验证准确率")).to_be_visible(timeout=120_000)
    expect(chinese.get_by_text("colours · 第 1 次运行").first).to_be_visible()  # A run named in the reader's language.
    expect(chinese.get_by_test_id("stException")).to_have_count(0)
    screenshot(chinese, os.environ.get("HUBDEMO_SCREENSHOTS", str(tmp_path)) + "/zh-train.png")


def generated(page, selector: str) -> str:
    """The text a style sheet shows after the element (CSS ``::after``), as CSS gives it: quoted, or ``none``.

    Waits for the element first (``eval_on_selector`` does not): a page still rerunning may not have drawn it.
    """
    page.locator(selector).first.wait_for(state="attached", timeout=60_000)
    return page.eval_on_selector(selector, "e => getComputedStyle(e, '::after').content")


def test_the_sidebar_switches_the_language_and_it_is_kept_across_pages(app_url, browser):
    from playwright.sync_api import expect
    page = browser.new_page(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    wait_for_app_run(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Language").click()
    page.get_by_role("option", name="English").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="What does a model see in your photos?")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_text("Dataset grid").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Dataset grid: what does ImageNet make of your classes?")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Language").click()
    page.get_by_role("option", name="简体中文").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="数据集网格：ImageNet 如何看待你的类别？")).to_be_visible()
