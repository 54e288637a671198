"""Live camera classification: camera frame in, the model's newest reading out, and the label drawn on the frame.

The camera wiring (WebRTC) is app code; this module is what it calls for every
frame, on the frame's own worker thread. A frame is classified when the last
prediction is at least ``1 / max_rate`` seconds old; the frames in between get
the newest reading drawn on them, so the video stays smooth and the model's
share of the CPU stays bounded however fast the camera is.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hubdemo import explain, images
from hubdemo.models import ImageClassifier, Prediction

MAX_RATE = 15.0  # Predictions per second: more than the eye follows, and a core left for everything else.
HEAT_RATE = 8.0  # Heatmaps per second, when asked for: Grad-CAM costs about 25 ms a frame here (Lite0).
MIN_RATE = 2.0  # Predictions per second each live video keeps however many share the server: still "live".
ACTIVE_SECONDS = 2.0  # A video whose last frame is older than this no longer takes a share.
ON_TIME = 0.95  # A frame this share of an interval after the last counts as due: cameras send a hair early or late.


@dataclass(frozen=True)
class Reading:
    """The model's answer for one camera frame."""

    predictions: tuple[Prediction, ...]
    frame_time: float  # When the frame arrived (monotonic seconds).
    done_time: float  # When its prediction was ready.
    number: int  # Predictions made so far, this one included.

    @property
    def latency(self) -> float:
        """Seconds from the frame's arrival to its label."""
        return self.done_time - self.frame_time


class Budget:
    """Predictions per second shared by every live video on one server (thread-safe).

    One camera gets ``total`` a second; ten phones in a classroom get a tenth
    each (never under ``floor``), so live video cannot take the CPU that
    everyone's uploads and the training runs need, however many cameras are on.
    """

    def __init__(self, total: float = MAX_RATE, floor: float = MIN_RATE, clock: Callable[[], float] = time.monotonic):
        self.total, self.floor, self.clock = total, floor, clock
        self._lock = threading.Lock()
        self._seen: dict[int, float] = {}  # id(video) → when its last frame came.

    def rate(self, video: object) -> float:
        """``video`` sent a frame now: its share, in predictions per second."""
        now = self.clock()
        with self._lock:
            self._seen[id(video)] = now
            self._seen = {key: t for key, t in self._seen.items() if now - t <= ACTIVE_SECONDS}
            return max(self.floor, self.total / len(self._seen))

    def sharing(self) -> int:
        """How many live videos share the budget now."""
        now = self.clock()
        with self._lock:
            return sum(now - t <= ACTIVE_SECONDS for t in self._seen.values())


SHARED = Budget()  # The server's: every session's live video draws on it.

Explainer = Callable[[np.ndarray, int], np.ndarray]  # (a batch of one model input, a class) -> its heat, H×W.


def gradcam(classifier: ImageClassifier, network) -> Explainer:
    """The explainer of live video: Grad-CAM (``explain.CamNetwork`` ``network``, made beforehand: it takes
    seconds), the one method fast enough for every few frames."""
    def heat(batch: np.ndarray, index: int) -> np.ndarray:
        return explain.gradcam_heats(classifier, batch, [index], network)[0]
    return heat


class LiveClassifier:
    """Classifies camera frames as they come, at most ``max_rate`` times a second; keeps the newest reading.

    With an explainer (:meth:`look`), the video also shows where the model
    looks: a heatmap of the newest reading's top class, made at most
    ``heat_rate`` times a second and laid over every frame until the next.

    Thread-safe: WebRTC calls :meth:`process` from its frame thread while a
    page reads :meth:`latest` and :meth:`rate` from another.
    """

    def __init__(self, classifier: ImageClassifier, *, max_rate: float = MAX_RATE, k: int = 5,
                 clock: Callable[[], float] = time.monotonic, heat_rate: float = HEAT_RATE,
                 budget: Budget | None = None):
        self.classifier, self.k, self.clock = classifier, k, clock
        self.max_rate, self.heat_rate_limit = max_rate, heat_rate
        self.budget = budget or Budget(max_rate, clock=clock)  # The app passes SHARED.
        self._lock = threading.Lock()
        self._latest: Reading | None = None
        self._started = -np.inf  # When the last prediction began.
        self._done_times: deque[float] = deque(maxlen=64)
        self._explainer: Explainer | None = None
        self._heat: np.ndarray | None = None  # The newest heatmap, at the model's input size.
        self._heat_started = -np.inf
        self._heat_times: deque[float] = deque(maxlen=64)
        self._colours: np.ndarray | None = None  # The newest heatmap in colour at the frames' size.

    def look(self, explainer: Explainer | None) -> None:
        """Show where the model looks (``explainer``, e.g. Grad-CAM), or stop showing it (None)."""
        with self._lock:
            if explainer is None:
                self._heat = self._colours = None
            self._explainer = explainer

    def process(self, rgb: np.ndarray, arrived: float | None = None) -> Reading | None:
        """Classify ``rgb`` (an H×W×3 uint8 frame) if a prediction is due; returns the newest reading."""
        arrived = self.clock() if arrived is None else arrived
        rate = min(self.max_rate, self.budget.rate(self))  # Its share of the server's, now.
        with self._lock:
            due = arrived - self._started >= ON_TIME / rate  # 10/s from 30 fps: every 3rd frame.
            if due:
                self._started = arrived
        if not due:
            return self.latest()
        batch = images.from_array(rgb, self.classifier.input_size)[None]
        probs = self.classifier.probabilities(batch)[0]
        done = self.clock()
        with self._lock:
            number = (self._latest.number if self._latest else 0) + 1
            self._latest = reading = Reading(self.classifier.top_k(probs, self.k), arrived, done, number)
            self._done_times.append(done)
            explainer = self._explainer
            # At most every other prediction: a heatmap costs about three of them.
            heat_due = (explainer is not None and
                        arrived - self._heat_started >= ON_TIME / min(self.heat_rate_limit, rate / 2))
            if heat_due:
                self._heat_started = arrived
        if heat_due:
            heat = explainer(batch, int(probs.argmax()))
            with self._lock:
                if self._explainer is explainer:  # Not switched off meanwhile.
                    self._heat, self._colours = heat, None
                    self._heat_times.append(self.clock())
        return reading

    def annotate(self, rgb: np.ndarray, arrived: float | None = None) -> np.ndarray:
        """One camera frame in, the same frame out with the newest reading drawn on it (classified if due),
        over the newest heatmap when the model's looking is shown."""
        reading = self.process(rgb, arrived)
        return overlay(self._with_heat(rgb), reading)

    def _with_heat(self, rgb: np.ndarray) -> np.ndarray:
        """The frame half under the newest heatmap's colours (made once per heatmap and frame size), or as it is."""
        with self._lock:
            heat, colours = self._heat, self._colours
        if heat is None:
            return rgb
        if colours is None or colours.shape != rgb.shape:
            colours = explain.heat_colours(heat, (rgb.shape[1], rgb.shape[0]))
            with self._lock:
                if self._heat is heat:
                    self._colours = colours
        return ((rgb.astype(np.uint16) + colours) >> 1).astype(np.uint8)

    def heat(self) -> np.ndarray | None:
        """The newest heatmap (the model's input size, [0, 1]), or None."""
        with self._lock:
            return self._heat

    def heat_rate(self, window: float = 2.0) -> float:
        """Heatmaps per second over the last ``window`` seconds."""
        return self._per_second(self._heat_times, window)

    def latest(self) -> Reading | None:
        with self._lock:
            return self._latest

    def rate(self, window: float = 2.0) -> float:
        """Predictions per second over the last ``window`` seconds."""
        return self._per_second(self._done_times, window)

    def _per_second(self, times: deque[float], window: float) -> float:
        now = self.clock()
        with self._lock:
            return sum(now - t <= window for t in times) / window


_FONT_CACHE: dict[int, ImageFont.ImageFont] = {}


def _font(size: int) -> ImageFont.ImageFont:
    if size not in _FONT_CACHE:
        _FONT_CACHE[size] = ImageFont.load_default(size=size)
    return _FONT_CACHE[size]


def overlay(rgb: np.ndarray, reading: Reading | None, *, rows: int = 3) -> np.ndarray:
    """The frame with the reading's top classes drawn as labelled bars along its bottom edge."""
    if reading is None:
        return rgb
    frame = Image.fromarray(rgb)
    width, height = frame.size
    size = max(12, height // 24)
    line = int(size * 1.6)
    top = height - line * rows - size // 2
    panel = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(panel)
    draw.rectangle([0, top, width, height], fill=(0, 0, 0, 140))
    for row, p in enumerate(reading.predictions[:rows]):
        y = top + size // 4 + row * line
        draw.rectangle([0, y, int(width * p.probability), y + line - 4], fill=(255, 111, 0, 200))
        draw.text((8, y + (line - size) // 2 - 2), f"{p.probability:4.0%}  {p.label}", font=_font(size),
                  fill=(255, 255, 255, 255))
    frame.paste(panel, (0, 0), panel)
    return np.asarray(frame)


class FrameTap:
    """Photos for a dataset, recorded from live video: Teachable Machine's "hold to record".

    WebRTC's frame thread :meth:`put` s every frame; a page's :meth:`record`
    takes ``count`` of them, ``interval`` seconds apart, so a student who moves
    the object while it records gets many views of it in a few seconds instead
    of pressing a shutter twenty times. Only the newest frame is held, so
    memory stays one frame whatever the camera sends.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._changed = threading.Condition()
        self._frame: np.ndarray | None = None
        self._arrived = -np.inf
        self._progress: tuple[int, int] | None = None  # (taken, wanted) while recording.

    def put(self, rgb: np.ndarray) -> np.ndarray:
        """One camera frame in; the same frame out, with a red recording mark while :meth:`record` runs."""
        with self._changed:
            self._frame, self._arrived = rgb, self.clock()
            progress = self._progress
            self._changed.notify_all()
        return rgb if progress is None else recording_mark(rgb, *progress)

    def record(self, count: int, interval: float, *, timeout: float = 3.0,
               on_photo: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """``count`` frames at least ``interval`` seconds apart (fewer if the video stops for ``timeout`` s)."""
        taken: list[np.ndarray] = []
        due = -np.inf
        with self._changed:
            self._progress = (0, count)
        try:
            while len(taken) < count:
                with self._changed:
                    if not self._changed.wait_for(lambda: self._frame is not None and self._arrived >= due,
                                                  timeout=max(timeout, interval * 2)):
                        break  # The camera stopped: keep what was taken.
                    taken.append(self._frame)
                    self._frame = None  # The next photo is a newer frame, never this one again.
                    due = self._arrived + interval * ON_TIME
                    self._progress = (len(taken), count)
                if on_photo is not None:  # Outside the lock: the video never waits for the page.
                    on_photo(len(taken))
        finally:
            with self._changed:
                self._progress = None
        return taken


def recording_mark(rgb: np.ndarray, taken: int, wanted: int) -> np.ndarray:
    """The frame with a red dot and "taken / wanted" in its top left corner, as a camera shows it records."""
    frame = Image.fromarray(rgb)
    size = max(14, frame.height // 16)
    draw = ImageDraw.Draw(frame)
    draw.ellipse([size // 2, size // 2, size * 3 // 2, size * 3 // 2], fill=(230, 30, 30))
    draw.text((size * 2, size // 2 - 2), f"{taken} / {wanted}", font=_font(size), fill=(255, 255, 255),
              stroke_width=2, stroke_fill=(0, 0, 0))
    return np.asarray(frame)
