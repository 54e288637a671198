"""Temp folders inside the app's cache, one per process, swept once their process has gone.

TensorFlow's autograph writes a Python file into the temp folder for every
function it converts, and deletes them only when the process exits
normally. A server stopped with ``kill -9`` (or a flat battery), and a
training worker (always killed), would leave them in ``/tmp`` for good.
So the server's temp folder, and each worker's, is a folder of the cache
named for the server's process id; the next start removes the folders of
servers that are no longer running. Nothing is left outside the cache.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from hubdemo import paths

_OWN: list[Path] = []  # This process's folder, once it uses one.


def root() -> Path:
    return paths.cache_dir() / "scratch"


def new_folder() -> Path:
    """A fresh folder named for this process (the server): ``<pid>-<random>``."""
    root().mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root()))


LEGACY = "trainers"  # Where hubdemo 0.2 put its training workers' temp folders, named the same way.


def sweep() -> None:
    """Remove the folders of servers that have gone (killed, so they could not clean up), here and where
    earlier versions kept them."""
    import psutil
    for folder in [*root().glob("*-*"), *(paths.cache_dir() / LEGACY).glob("*-*")]:
        pid = folder.name.split("-")[0]
        if not (pid.isdigit() and psutil.pid_exists(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)


def use_for_this_process() -> Path | None:
    """Point this process's temp folder (and its children's, through ``TMPDIR``) into the cache.

    Call it before TensorFlow writes anything: Python's ``tempfile`` reads the folder on each call, so
    autograph's files land here from then on. Sweeps first, and removes the folder at a normal exit.
    Where the cache cannot be written (read-only, full), keeps the system's temp folder and returns None:
    the app still starts, and its pages say what they could not save.
    """
    sweep()
    try:
        folder = new_folder()
    except OSError:
        return None
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    _OWN.append(folder)
    atexit.register(leave)
    return folder


def leave() -> None:
    """Remove this process's folder. Also called by a server stopping on SIGTERM, which skips exit handlers."""
    while _OWN:
        shutil.rmtree(_OWN.pop(), ignore_errors=True)
