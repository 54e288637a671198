"""Download a file once into the cache, with progress, atomically, and a clear message when offline."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from hubdemo.errors import HubDemoError
from hubdemo.i18n import _, sentences

CHUNK = 1 << 20
TIMEOUT_SECONDS = 30


def download(url: str, dest: Path, *, progress: Callable[[int, int], None] | None = None,
             offline_hint: str = "") -> Path:
    """Fetch ``url`` to ``dest`` unless it is already there; returns ``dest``.

    The data goes to a temporary file renamed to ``dest`` when complete, so an
    interrupted download is never mistaken for a finished one.

    Args:
        progress: called as ``progress(done_bytes, total_bytes)``; total is 0 if unknown.
        offline_hint: what the user can do instead, added to a failure message.

    Raises:
        HubDemoError: the download failed (no network, HTTP error, interrupted).
    """
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            if total and done != total:
                raise HubDemoError(_("The download of {url} stopped after {done:,} of {total:,} bytes. Try again.").format(
                        url=url, done=done, total=total))
        shutil.move(tmp, dest)
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        raise HubDemoError(sentences(
            _("Could not download {url} ({reason}). There may be no internet connection.").format(url=url, reason=reason),
            offline_hint)) from err
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest
