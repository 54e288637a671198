"""The server's start: a terminal without false alarms; its temp files in its own folder of the app's cache,
gone when it stops, swept if it was killed."""

import signal
import time

import pytest

from browser import browser_page, streamlit_server, wait_for_app_run
from hubdemo import scratch


def _server_folder(before: set):
    """The folder the new server took as its temp folder (named for its process id)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if new := set(scratch.root().glob("*-*")) - before:
            (folder,) = new
            return folder
        time.sleep(0.5)
    pytest.fail("the server took no temp folder in the app's cache")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl+C", "kill"])
def test_a_stopped_server_removes_its_temp_folder(bundled_dir, stop):
    """SIGTERM ends the server without Python's exit handlers: the shut-down hook removes the folder."""
    before = set(scratch.root().glob("*-*"))
    with streamlit_server(stop=stop):
        folder = _server_folder(before)
    assert not folder.exists()


def test_a_killed_servers_temp_files_are_in_its_folder_which_the_next_start_sweeps(bundled_dir):
    """A heatmap makes TensorFlow convert a function, writing a file; after kill -9 only the next start can clean."""
    from playwright.sync_api import expect
    before = set(scratch.root().glob("*-*"))
    with streamlit_server(stop=signal.SIGKILL) as url, browser_page() as page:
        folder = _server_folder(before)
        page.goto(url)
        wait_for_app_run(page)
        page.get_by_text("Where is it looking?").click()
        expect(page.get_by_text("Where it looks for").first).to_be_visible(timeout=60_000)
        assert list(folder.glob("__autograph_generated_file*.py")), "TensorFlow's temp files are in the cache"
    assert folder.exists(), "kill -9: nothing of the server ran"
    with streamlit_server():
        assert not folder.exists(), "the next server's start swept it"


def test_the_terminal_a_teacher_starts_the_app_from_has_no_streamlit_notes_about_the_warm_up(bundled_dir):
    """Streamlit notes code run outside a page ("missing ScriptRunContext", "No runtime found"): the warm-up
    is that by design, and a dozen such lines under the address and QR code look like a fault."""
    from playwright.sync_api import expect
    said = []
    with streamlit_server(output=said) as url, browser_page() as page:
        page.goto(url)
        wait_for_app_run(page)
        page.get_by_text("Where is it looking?").click()  # Needs TensorFlow and the model, as the warm-up does.
        expect(page.get_by_text("Where it looks for").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(3000)
    assert any("Local URL" in line or "URL:" in line for line in said), said
    notes = [line for line in said if "ScriptRunContext" in line or "No runtime found" in line]
    assert not notes, notes
