"""Where hubdemo keeps what it builds and downloads (one place, one env var each)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable

from hubdemo.i18n import N_, _

CACHE_ENV = "HUBDEMO_CACHE_DIR"


def cache_dir() -> Path:
    """The app's cache: ``$HUBDEMO_CACHE_DIR``, else ``$XDG_CACHE_HOME/hubdemo``, else ``~/.cache/hubdemo``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hubdemo"


def configure_tfhub_cache() -> Path:
    """Keep TF Hub downloads across runs (its default is a temp folder), unless the user chose one."""
    os.environ.setdefault("TFHUB_CACHE_DIR", str(cache_dir() / "tfhub"))
    return Path(os.environ["TFHUB_CACHE_DIR"])


def workspace_dir() -> Path:
    """Where uploaded archives and datasets built in the browser are extracted."""
    return cache_dir() / "workspace"


def typed(text: str) -> str:
    """A path as people paste it, made plain: spaces around it, the quotes Windows' *Copy as path* adds,
    or a ``file://`` address dragged from a file manager."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    if text.lower().startswith("file://"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname  # Unquotes, and knows Windows' drive letters.
        text = url2pathname(urlparse(text).path)
    return text


WRITE_ERRORS = {errno.ENOSPC: N_("the disk is full"), errno.EDQUOT: N_("the disk quota is used up"),
                errno.EROFS: N_("the disk is read-only"), errno.EACCES: N_("permission denied"),
                errno.EPERM: N_("permission denied"),
                errno.ENOTDIR: N_("part of its path is a file, not a folder")}


def write_problem(err: BaseException) -> str | None:
    """Why writing failed, in words, when the fault is the disk's (full, read-only…) and not the data's; else None.

    TensorFlow's own file errors (saving a SavedModel) carry no errno, only the system's words for it
    ("No space left on device") inside their message: those count too.
    """
    code = getattr(err, "errno", None)
    if code not in WRITE_ERRORS:
        code = next((known for known in WRITE_ERRORS if os.strerror(known) in str(err)), None)
    return None if code is None else _(WRITE_ERRORS[code])


@contextmanager
def atomic_folder(dest: Path):
    """Yield a temporary folder beside ``dest``; rename it to ``dest`` only if the block completes.

    A crash or an error midway leaves nothing at ``dest``, so a half-written
    model, archive or dataset is never mistaken for a finished one. If another
    process finished ``dest`` first, its result is kept.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-partial-", dir=dest.parent))
    try:
        yield tmp
        try:
            tmp.rename(dest)
        except OSError:
            if not dest.exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """``write(file)`` into a temporary file beside ``path``, then put it in place: never half a file.

    The temporary file is named for this thread, so two threads writing the
    same ``path`` do not write into each other's; the last one to finish wins.

    Raises:
        OSError: it could not be written (nothing is left behind).
    """
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
