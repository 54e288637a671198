"""Real-browser test support: ``streamlit run`` on a free port, driven by Debian's headless Chromium."""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager

import pytest

from conftest import IN_CI, ROOT

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]


def chromium_path() -> str:
    """Debian's chromium; a missing browser skips locally but fails under CI."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(*app_args, timeout=120, env=None, stop=signal.SIGINT, output: list | None = None):
    """Serve streamlit_app.py headless on a free port; yields its URL; prints its output on the way out.

    ``stop``: the signal that ends it. By default Ctrl+C's, as a teacher stops it. ``output``: a list that
    gets the lines the server wrote to its terminal, once it has stopped.
    """
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
               "--server.headless", "true", "--server.port", str(port),
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    if app_args:
        command += ["--", *app_args]
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=None if env is None else {**os.environ, **env})
    # A classroom serves HTTPS with its own self-signed certificate: the test trusts it as a student does.
    https = "--classroom" in app_args
    url = f"{'https' if https else 'http'}://localhost:{port}"
    unverified = ssl._create_unverified_context() if https else None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=unverified).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not start (exit code {proc.poll()}):\n{log.read()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        lines = log.read().splitlines()
        if output is not None:
            output.extend(lines)
        errors = [line for line in lines if "Traceback" in line or "Error" in line]
        if errors:  # Shown with the test's output, to explain a failure.
            print("streamlit server reported:", *errors[-20:], sep="\n")
        log.close()


@contextmanager
def chromium(*extra_args):
    """A headless Chromium; each ``browser.new_page()`` is a separate user (own cookies, own session)."""
    from playwright.sync_api import sync_playwright
    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(*extra_args, **page_options):
    """A fresh headless Chromium page (``extra_args``: more Chromium switches, e.g. a fake camera)."""
    with chromium(*extra_args) as browser:
        yield browser.new_page(**{"viewport": {"width": 1400, "height": 1000}, **page_options})


def fake_camera_args(video) -> list[str]:
    """Chromium switches that grant the camera and play ``video`` (a .y4m file) as its picture."""
    return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]


def wait_for_app_run(page, timeout=120_000):
    """Wait until the app is connected and its script has finished running."""
    from playwright.sync_api import expect
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    expect(page.get_by_test_id("stSpinner")).to_have_count(0, timeout=timeout)


def screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall as that first."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stSidebarContent]')].map(e => e.scrollHeight), 800)")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(height + 40, 12000)})
    page.wait_for_timeout(500)  # Charts re-render at the new size.
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def open_train_page(page, app_url: str, epochs: int, batch_size: int) -> None:
    """Open the Train page (its --data dataset) and set the epochs and batch size."""
    page.goto(f"{app_url}/train")
    wait_for_app_run(page)
    for label, value in (("Epochs", epochs), ("Batch size", batch_size)):
        box = page.get_by_role("spinbutton", name=label)
        box.fill(str(value))
        box.press("Enter")
        page.wait_for_timeout(300)  # The rerun the new value starts, before waiting for it to end.
        wait_for_app_run(page)


def start_training(page, app_url: str, epochs: int, batch_size: int) -> None:
    """Open the Train page (its --data dataset), set the epochs and batch size, press Train."""
    from playwright.sync_api import expect
    open_train_page(page, app_url, epochs, batch_size)
    page.get_by_role("button", name="Train").click()
    # The run says the settings it took: a value typed but not yet sent would train with the old one.
    expect(page.get_by_text(f"{epochs} epochs · batch size {batch_size} ·").first).to_be_visible(timeout=60_000)


def start_live_camera(page, app_url: str):
    """Open the classifier page, choose Live camera and start it; the video component's frame, once it predicts."""
    from playwright.sync_api import expect
    page.goto(app_url)
    wait_for_app_run(page)
    page.get_by_text("Live camera").click()
    wait_for_app_run(page)
    video = page.frame_locator("iframe").first
    video.get_by_role("button", name="Start the camera").click()
    try:
        expect(page.get_by_text("predictions a second")).to_be_visible(timeout=45_000)
    except AssertionError:
        # Once in a CI run, the first camera of a freshly started server never connected (the page still said
        # "Press Start the camera" a minute later; not seen otherwise). A person presses Start again: so does
        # the test, once. A camera that cannot start at all still fails here.
        start = video.get_by_role("button", name="Start the camera")
        if start.count():
            import warnings
            # Counted in the run's warnings summary (how often this happens), with what the component showed.
            shown = " | ".join(video.locator("body").inner_text().split("\n"))[:300]
            alerts = " | ".join(page.get_by_test_id("stAlert").all_inner_texts())[:300]
            warnings.warn(f"the live camera did not connect within 45 s of Start; pressed Start again. "
                          f"The video component showed: {shown!r}; the page's notices: {alerts!r}")
            start.click()
        expect(page.get_by_text("predictions a second")).to_be_visible(timeout=60_000)
    return video
