"""Files written whole or not at all."""

import pytest

from hubdemo import paths


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_half_written_one(tmp_path):
    target = tmp_path / "runs.json"
    paths.write_atomically(target, lambda f: f.write(b"first"))
    assert target.read_bytes() == b"first"

    def breaks(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        paths.write_atomically(target, breaks)
    assert target.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["runs.json"]


@pytest.mark.parametrize(("pasted", "path"), [
    ("/home/me/flowers ", "/home/me/flowers"),  # A trailing space.
    ('"/home/me/my flowers"', "/home/me/my flowers"),  # Windows' Copy as path.
    (" '/home/me/flowers' ", "/home/me/flowers"),
    ("file:///home/me/my%20flowers/", "/home/me/my flowers/"),  # Dragged from a file manager.
    ("https://tfhub.dev/google/model/1", "https://tfhub.dev/google/model/1"),  # Not a path: left alone.
    ('"', '"'),
])
def test_a_pasted_path_is_made_plain(pasted, path):
    assert paths.typed(pasted) == path
