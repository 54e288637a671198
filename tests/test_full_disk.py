"""A full disk: what could not be written is said in a sentence, nothing half-written is left, nothing else is lost.

Measured on a real full disk: a small tmpfs mounted for the test (it needs the right to mount, which
a root CI container has; elsewhere the test skips and says why).
"""

import errno
import re
import subprocess

import pytest

from hubdemo import bundled, datasets, paths
from hubdemo.errors import HubDemoError


def _mounted(folder, options: str):
    """A tmpfs mounted at ``folder`` with ``options``, unmounted after; skips where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB disk: too small for a model, enough for a photo or two."""
    yield from _mounted(tmp_path / "disk", "size=2m")


@pytest.fixture
def read_only_disk(tmp_path):
    yield from _mounted(tmp_path / "read-only", "ro,size=1m")


@pytest.fixture
def full_disk(small_disk, monkeypatch):
    """The small disk as the app's cache."""
    monkeypatch.setenv(paths.CACHE_ENV, str(small_disk))
    return small_disk


def test_the_model_build_on_a_full_disk_says_so_and_leaves_nothing(full_disk):
    with pytest.raises(HubDemoError, match=r"EfficientNet-Lite0 could not be built into .*: the disk is full\. "
                                           r".*HUBDEMO_CACHE_DIR"):
        bundled.ensure_built()
    assert list(full_disk.iterdir()) == [], "no half-built model that a later start would load"


def test_the_built_in_digits_on_a_full_disk_say_so_and_leave_nothing(full_disk):
    with pytest.raises(HubDemoError, match=r"digits could not be written to .*: the disk is full"):
        datasets.digits_folder()
    assert list((full_disk / "datasets").iterdir()) == []


def test_a_photo_that_does_not_fit_keeps_the_photos_before_it(full_disk):
    folder = full_disk / "built"
    kept = datasets.add_built_photo(folder, "cup", "first", "cup.jpg", b"\xff" * 500_000)
    with pytest.raises(HubDemoError, match=r"The photo could not be saved in .*: the disk is full\. The photos "
                                           r"added before it are kept"):
        datasets.add_built_photo(folder, "cup", "second", "cup.jpg", b"\xff" * 3_000_000)
    assert [p.name for p in (folder / "cup").iterdir()] == [kept.name], "no half-written photo"
    assert kept.stat().st_size == 500_000


def test_an_export_to_a_full_disk_says_so_and_leaves_nothing(colours_run, small_disk):
    from hubdemo import export
    before = colours_run.export_folder  # Another test may have exported this run already.
    with pytest.raises(HubDemoError, match=r"The export could not be written to .*: the disk is full\. Free some "
                                           r"space or choose another folder"):
        export.export_run(colours_run, small_disk / "colours-run-1")
    assert list(small_disk.iterdir()) == [] and colours_run.export_folder == before


def test_an_export_folder_below_a_file_says_so_and_which_setting_to_change(colours_run, tmp_path):
    from hubdemo import export
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(HubDemoError, match=r"The export could not be written to .*: part of its path is a file, not a "
                                           r"folder\. .*\(HUBDEMO_EXPORTS_DIR\)"):
        export.export_run(colours_run, tmp_path / "a-file" / "exports" / "colours-run-1")


def test_tensorflows_own_disk_errors_are_put_in_words():
    """TensorFlow's errors carry no errno: the system's words inside the message are what tell."""
    from hubdemo.tf import tf
    saving = tf.errors.ResourceExhaustedError(None, None, "{{function_node __wrapped__SaveV2}} /x/variables/part-0; "
                                                          "No space left on device [Op:SaveV2]")
    assert paths.write_problem(saving) == "the disk is full"
    assert paths.write_problem(OSError(errno.EROFS, "Read-only file system")) == "the disk is read-only"
    assert paths.write_problem(tf.errors.InvalidArgumentError(None, None, "shapes differ")) is None
    assert paths.write_problem(ValueError("No such thing")) is None


def test_an_app_whose_cache_is_read_only_starts_and_its_page_says_why_there_is_no_model(read_only_disk):
    """The server's own temp folder goes in the cache (hubdemo.scratch): where it cannot, the server still starts."""
    from playwright.sync_api import expect

    from browser import browser_page, streamlit_server, wait_for_app_run
    with streamlit_server(env={paths.CACHE_ENV: str(read_only_disk)}) as url, browser_page() as page:
        page.goto(url)
        wait_for_app_run(page)
        expect(page.get_by_text(re.compile(r"EfficientNet-Lite0 could not be built into .*: the disk is read-only\. "
                                           r".*HUBDEMO_CACHE_DIR"))).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_cache_folder_under_a_file_is_put_in_words(tmp_path, monkeypatch):
    """HUBDEMO_CACHE_DIR pointing below a file (a typo, a leftover): the message says so and how to fix it."""
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path / "a-file" / "cache"))
    with pytest.raises(HubDemoError, match=r"could not be built into .*: part of its path is a file, not a "
                                           r"folder\. .*set HUBDEMO_CACHE_DIR to a folder"):
        bundled.ensure_built()
