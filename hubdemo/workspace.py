"""Each session's own folder in the workspace, with quotas that cannot be outgrown.

Uploads, datasets built in the browser, reopened exports and new exports all
go into ``workspace/sessions/<session>/<kind>/<item>``. Nothing of one
session is reachable from another (the pages only ever hand a session its
own folder), a session's folder goes when the session does, and before
anything is written the space it needs is found: by removing the folders of
sessions that are gone, then this session's own oldest items, or else the
write is refused with a message. Work done outside any session (a script, the
warm-up) has the folder :data:`LOCAL`, which is never cleaned as gone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path

from hubdemo import paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

LOCAL = "local"
MB = 1024 * 1024
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under ``folder`` (symlinks not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


class Workspace:
    """The sessions' folders under one root, with a quota per session and one for all."""

    def __init__(self, root: Path | None = None, *, session_quota: int = 500 * MB, total_quota: int = 5 * 1024 * MB):
        self.top = Path(root or paths.workspace_dir())  # Everything counts towards the total: the class project too.
        self.root = self.top / "sessions"
        self.session_quota, self.total_quota = session_quota, total_quota

    def folder(self, session: str, kind: str = "") -> Path:
        """``session``'s folder (of one ``kind``: uploads, built, models, exports), made if missing."""
        folder = self.root / _name(session) / kind if kind else self.root / _name(session)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def used(self, session: str | None = None) -> int:
        """Bytes of one session's folder, or of the whole workspace."""
        return folder_bytes(self.root / _name(session) if session else self.top)

    def check_total(self, needed: int, what: str = "this") -> None:
        """Refuse ``needed`` more bytes that would not fit the class's total (for what no session owns)."""
        if self.used() + needed > self.total_quota:
            raise HubDemoError(_("The class's workspace is full ({total_quota:,.0f} MB in all), so "
                                 "{what} cannot be kept. Ask the teacher to clear the workspace.").format(
                                         total_quota=self.total_quota / MB, what=what))

    def make_room(self, session: str, needed: int, *, active: set[str] | None = None, keep=(), what="this") -> None:
        """Make sure ``needed`` more bytes fit ``session``'s quota and the total, or refuse.

        Frees space oldest first: the folders of sessions no longer in
        ``active`` (when it is known), then this session's own items, except
        those in ``keep`` (what the session is using now).

        Raises:
            HubDemoError: ``needed`` does not fit even then; nothing was written.
        """
        if needed > self.session_quota:
            raise HubDemoError(_("{what} needs {needed:,.0f} MB, more than the "
                                 "{session_quota:,.0f} MB each person may keep on this computer. Use "
                                 "fewer or smaller photos.").format(
                                     what=what[:1].upper() + what[1:], needed=needed / MB,
                                     session_quota=self.session_quota / MB))
        if active is not None:
            self.forget_gone(active | {session})
        own = self.used(session)
        for item in self._items(session, keep):
            if own + needed <= self.session_quota and self.used() + needed <= self.total_quota:
                break
            own -= folder_bytes(item)
            shutil.rmtree(item, ignore_errors=True)
        if own + needed > self.session_quota:
            raise HubDemoError(_("Your workspace is full: {what} needs {needed:,.0f} MB and your "
                                 "{session_quota:,.0f} MB hold what you are using now. Remove some "
                                 "photos, or start again in a new tab.").format(
                                         what=what, needed=needed / MB, session_quota=self.session_quota / MB))
        self.check_total(needed, what)

    def _items(self, session: str, keep) -> list[Path]:
        """``session``'s items, oldest first, except those in ``keep`` or holding one of them."""
        keep = [Path(k).resolve() for k in keep]
        items = [item for kind in (self.root / _name(session)).glob("*") if kind.is_dir() for item in kind.iterdir()]
        items = [i for i in items if not any(k == i.resolve() or i.resolve() in k.parents for k in keep)]
        return sorted(items, key=_mtime)

    def forget_gone(self, active: set[str]) -> list[str]:
        """Remove the folders of sessions not in ``active`` (a closed tab's uploads, runs, exports)."""
        gone, active = [], {_name(s) for s in active}
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.is_dir() and folder.name not in active and folder.name != LOCAL:
                    shutil.rmtree(folder, ignore_errors=True)
                    gone.append(folder.name)
        return gone

    def clear(self) -> int:
        """Everything of every session and the class project (the teacher's button); returns the bytes freed."""
        freed = self.used()
        for folder in (self.root, self.top / "class-projects", self.top / "uploads", self.top / "models"):
            shutil.rmtree(folder, ignore_errors=True)
        return freed

    def sessions(self) -> dict[str, int]:
        """Bytes used per session folder."""
        if not self.root.is_dir():
            return {}
        return {f.name: folder_bytes(f) for f in self.root.iterdir() if f.is_dir()}


def _name(session: str) -> str:
    """A session's folder name: its id (Streamlit's are UUIDs), or a digest of any other string."""
    return session if _SESSION_ID.match(session) else hashlib.sha1(session.encode()).hexdigest()[:16]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()
