"""A full disk: what could not be written is said in a sentence, nothing half-written is left, nothing else is lost.

Measured on a real full disk: a small tmpfs mounted for the test (it needs the right to mount, which
a root CI container has; elsewhere the test skips and says why).
"""

import errno
import subprocess

import pytest

from hubdemo import bundled, datasets, paths
from hubdemo.errors import HubDemoError


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB disk: too small for a model, enough for a photo or two."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


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


def test_tensorflows_own_disk_errors_are_put_in_words():
    """TensorFlow's errors carry no errno: the system's words inside the message are what tell."""
    from hubdemo.tf import tf
    saving = tf.errors.ResourceExhaustedError(None, None, "{{function_node __wrapped__SaveV2}} /x/variables/part-0; "
                                                          "No space left on device [Op:SaveV2]")
    assert paths.write_problem(saving) == "the disk is full"
    assert paths.write_problem(OSError(errno.EROFS, "Read-only file system")) == "the disk is read-only"
    assert paths.write_problem(tf.errors.InvalidArgumentError(None, None, "shapes differ")) is None
    assert paths.write_problem(ValueError("No such thing")) is None
