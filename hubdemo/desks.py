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

Nothing here knows Streamlit: the page glue (``room.py``) says which pages are
connected and keeps the desk's state.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

KEEP_SECONDS = 30 * 60  # Long enough for a lesson's interruptions; short enough that a room's desks do not pile up.
MAX_LEFT = 60  # Left desks kept at most, whatever their age (two classes' worth): closed tabs cannot fill the memory.


@dataclass
class Desk:
    name: str
    holder: str  # The page (Streamlit session) sitting at it now, or the last one that did.
    address: str | None = None  # The network address its pages come from (None: this computer).
    state: dict = field(default_factory=dict)  # What the holder keeps: its runs, models, settings.
    left: float | None = None  # When its holder was first seen gone (time.monotonic), or None while held.


class Desks:
    """Every desk of this server, shared by all its pages (thread-safe)."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS, max_left: int = MAX_LEFT, clock=time.monotonic):
        self.keep_seconds, self.max_left = keep_seconds, max_left
        self._clock = clock
        self._desks: dict[str, Desk] = {}
        self._lock = threading.Lock()

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
                return desk, True
            desk = Desk(secrets.token_hex(12), holder, address)
            self._desks[desk.name] = desk
            return desk, False

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
            return set(self._desks)

    def get(self, name: str) -> Desk | None:
        with self._lock:
            return self._desks.get(name)
