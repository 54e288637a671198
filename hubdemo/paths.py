"""Where hubdemo keeps what it builds and downloads (one place, one env var each)."""

from __future__ import annotations

import os
from pathlib import Path

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
