"""Desks: a browser tab's work, kept when its page is reloaded.

A web server sees a reload (F5, or a phone reopening a tab it had put to
sleep) as a new visitor with nothing: the runs, the models, the photos built
in the browser were gone. So each visitor sits at a *desk*, named by a random
word in the page's address, and what they make belongs to the desk. Loading
the same address again sits at the same desk once the page that held it has
gone; a desk nobody sits at is kept for :data:`KEEP_SECONDS`, then let go (its
files are cleaned with it).

A desk's name is as good as a key to it, so it is long and random; a desk is
never handed to a second page while the first still holds it (the same address
in two tabs gets a new desk), nor to a page from another computer's network
address: an address copied off the teacher's projected screen, or passed
around, opens a new desk.

The desks' names, addresses and remembered settings are also written to a
small file (``store``), so that a server that stops (a crash, a restart, the
laptop's battery) does not take everyone's work with it: after the restart a
reload sits at its old desk again, with its photos, uploads and exports (kept
on disk with the desk) and its settings; the page glue keeps the finished
runs' records on disk too (``runs.RunBook.save``). What lives only in the
server's memory (the runs' models) does not come back.

Nothing here knows Streamlit: the page glue (``room.py``) says which pages are
connected and keeps the desk's state.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from hubdemo import paths

KEEP_SECONDS = 30 * 60  # Long enough for a lesson's interruptions; short enough that a room's desks do not pile up.
MAX_LEFT = 60  # Left desks kept at most, whatever their age (two classes' worth): closed tabs cannot fill the memory.
_NAME = re.compile(r"^[0-9a-f]{24}$")


def _settings(state: dict) -> dict:
    """What of a desk's state outlives the server: the remembered settings (``kept_``) that are plain values."""
    kept = {}
    for key, value in state.items():
        if key.startswith("kept_"):
            with contextlib.suppress(TypeError, ValueError):
                json.dumps(value)
                kept[key] = value
    return kept


@dataclass
class Desk:
    name: str
    holder: str  # The page (Streamlit session) sitting at it now, or the last one that did.
    address: str | None = None  # The network address its pages come from (None: this computer).
    state: dict = field(default_factory=dict)  # What the holder keeps: its runs, models, settings.
    left: float | None = None  # When its holder was first seen gone (time.monotonic), or None while held.


class Desks:
    """Every desk of this server, shared by all its pages (thread-safe)."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS, max_left: int = MAX_LEFT, clock=time.monotonic,
                 store: Path | None = None, wall_clock=time.time):
        self.keep_seconds, self.max_left = keep_seconds, max_left
        self._clock, self._wall_clock = clock, wall_clock
        self._desks: dict[str, Desk] = {}
        self._lock = threading.Lock()
        self._store, self._written = store, None
        if store is not None:
            self._load()

    def _load(self) -> None:
        """The desks of the server's last run, as left when it stopped; those left too long ago are not kept."""
        try:
            entries = json.loads(self._store.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # No file (a first start), or a damaged one: nobody's desk to take up.
        now, wall = self._clock(), self._wall_clock()
        for entry in entries if isinstance(entries, list) else []:
            with contextlib.suppress(AttributeError, KeyError, TypeError, ValueError):
                name, address, left_at = entry["name"], entry.get("address"), entry.get("left_at")
                # A desk held when the server stopped waits from now; one already left, from when it was left.
                away = 0.0 if left_at is None else max(wall - float(left_at), 0.0)
                if _NAME.match(name) and (address is None or isinstance(address, str)) and away <= self.keep_seconds:
                    self._desks[name] = Desk(name, "", address, _settings(dict(entry.get("settings") or {})),
                                             left=now - away)

    def save(self) -> None:
        """Write every desk's name, address, settings and when it was left (None: held), if any of it changed."""
        if self._store is None:
            return
        now, wall = self._clock(), self._wall_clock()
        with self._lock:
            entries = [{"name": d.name, "address": d.address if isinstance(d.address, str) else None,
                        "settings": _settings(d.state),
                        "left_at": None if d.left is None else round(wall - (now - d.left))}
                       for d in self._desks.values()]
        text = json.dumps(entries, ensure_ascii=False, sort_keys=True)
        if text == self._written:
            return
        with contextlib.suppress(OSError):  # A disk that cannot take it only costs the desks a restart.
            self._store.parent.mkdir(parents=True, exist_ok=True)
            paths.write_atomically(self._store, lambda f: f.write(text.encode("utf-8")))
            self._written = text

    def sit(self, holder: str, asked: str | None, connected: set[str] | None,
            address: str | None = None) -> tuple[Desk, bool]:
        """The desk for the page ``holder`` (from network ``address``): the one named ``asked`` if free, else a new one.

        ``connected`` are the pages connected now; a desk whose holder is among
        them is not free (nor is any desk when they are unknown), nor one whose
        pages came from another address. Returns the desk and whether it was
        taken over from an earlier page (its state to restore).
        """
        with self._lock:
            desk = self._desks.get(asked) if asked else None
            if desk is not None and desk.holder == holder:
                return desk, False
            if (desk is not None and desk.address == address and connected is not None
                    and desk.holder not in connected):
                desk.holder, desk.left = holder, None
                resumed = True
            else:
                desk = Desk(secrets.token_hex(12), holder, address)
                self._desks[desk.name] = desk
                resumed = False
        self.save()
        return desk, resumed

    def kept(self, connected: set[str]) -> set[str]:
        """The desks still kept: held by a connected page, or among the ``max_left`` left last and less than
        ``keep_seconds`` ago; the others go."""
        now = self._clock()
        with self._lock:
            left = []
            for desk in self._desks.values():
                if desk.holder in connected:
                    desk.left = None
                else:
                    desk.left = now if desk.left is None else desk.left
                    left.append(desk)
            left.sort(key=lambda desk: desk.left, reverse=True)  # The latest to leave first.
            for number, desk in enumerate(left):
                if number >= self.max_left or now - desk.left > self.keep_seconds:
                    del self._desks[desk.name]
            kept = set(self._desks)
        self.save()
        return kept

    def get(self, name: str) -> Desk | None:
        with self._lock:
            return self._desks.get(name)
