"""The server's start-up and shut-down hook: what it cleans when the server stops."""

import sys
import tempfile

import warmup


def test_the_servers_autograph_files_are_removed_when_it_stops(tmp_path, monkeypatch):
    """TensorFlow writes a .py file per converted function into the temp folder and deletes them only at a
    normal exit; a server stopped by SIGTERM has none, so its shut-down hook removes them."""
    from hubdemo.tf import tf
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # Where this test's conversions are written.

    @tf.function
    def halve_the_positives(x):
        return x / 2 if x > 0 else x  # A Python `if` on a tensor: autograph converts it.

    assert float(halve_the_positives(tf.constant(3.0))) == 1.5
    written = list(tmp_path.glob("__autograph_generated_file*.py"))
    assert written and all(any(getattr(m, "__file__", None) == str(f) for m in list(sys.modules.values()))
                           for f in written), "loaded as modules, which say where their files are"
    warmup.remove_autograph_files()
    assert not list(tmp_path.glob("__autograph_generated_file*.py"))
    assert float(halve_the_positives(tf.constant(-3.0))) == -3.0, "the functions still run"
