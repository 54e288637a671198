"""Temp folders in the app's cache: what TensorFlow writes to the temp folder stays out of /tmp."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT
from hubdemo import scratch

CONVERT_THEN = """
import os, signal, sys
from hubdemo import scratch
folder = scratch.use_for_this_process()
from hubdemo.tf import tf

@tf.function
def halve_the_positives(x):
    return x / 2 if x > 0 else x  # A Python `if` on a tensor: autograph converts it, writing a file.

assert float(halve_the_positives(tf.constant(3.0))) == 1.5
print(folder, flush=True)
if sys.argv[1] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _convert(tmp_path, then: str):
    """Run the script above in a new process: its exit code, its output, and the folder it says it used."""
    script = tmp_path / "convert.py"  # Autograph reads a function's source: a file, not `python -c`.
    script.write_text(CONVERT_THEN)
    process = subprocess.Popen([sys.executable, str(script), then], text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert out.strip(), err[-2000:]
    folder = scratch.root() / os.path.basename(out.strip())
    assert folder.name.startswith(f"{process.pid}-"), "named for its process"
    return process.returncode, err, folder


def test_a_processs_folder_goes_when_it_exits(tmp_path):
    code, err, folder = _convert(tmp_path, "exit")
    assert code == 0, err[-2000:]
    assert not folder.exists(), "removed at a normal exit"


def test_a_killed_processs_folder_is_swept_and_a_live_ones_kept(tmp_path):
    code, err, folder = _convert(tmp_path, "kill")
    assert code == -9, err[-2000:]
    assert list(folder.glob("__autograph_generated_file*.py")), "its files are in its folder, not in /tmp"
    ours = scratch.new_folder()
    scratch.sweep()
    assert not folder.exists(), "its process has gone"
    assert ours.exists(), "a running process keeps its folder"
    ours.rmdir()


def test_folders_left_where_earlier_versions_kept_them_are_swept_too():
    """hubdemo 0.2's training workers kept theirs in cache/trainers: a killed server's stay no longer."""
    from hubdemo import paths
    legacy = paths.cache_dir() / scratch.LEGACY
    gone, running = legacy / "999999999-abc", legacy / f"{os.getpid()}-def"
    for folder in (gone, running):
        folder.mkdir(parents=True)
        (folder / "__autograph_generated_file1.py").write_text("pass")
    scratch.sweep()
    assert not gone.exists() and running.exists()
    shutil.rmtree(legacy)


def test_a_cache_that_cannot_be_written_leaves_the_temp_folder_as_it_was(tmp_path, monkeypatch):
    """A read-only or full cache must not stop the server from starting: its pages say what they cannot save."""
    import tempfile

    from hubdemo import paths
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(paths.CACHE_ENV, str(blocked / "cache"))
    before = (tempfile.gettempdir(), os.environ.get("TMPDIR"))
    assert scratch.use_for_this_process() is None
    assert (tempfile.gettempdir(), os.environ.get("TMPDIR")) == before
