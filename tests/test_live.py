"""Live camera frames: classified at a bounded rate by the real model, the newest reading drawn on each frame."""

import numpy as np
import pytest
from PIL import Image

from hubdemo import images, live


@pytest.fixture(scope="module")
def hopper_frame():
    """The tutorial's photo as a 640×480 camera frame (uint8 RGB)."""
    return np.asarray(images.read_image(images.sample_photo()).resize((640, 480), Image.BILINEAR))


class Clock:
    """Seconds that move only when told: frames arrive exactly as a 30 fps camera sends them."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_camera_frame_is_classified_like_the_photo_it_shows(classifier, hopper_frame):
    reader = live.LiveClassifier(classifier)
    reading = reader.process(hopper_frame)
    (photo,) = classifier.classify_files([("hopper.jpg", images.sample_photo())], k=5)
    assert reading.predictions[0].label == photo.predictions[0].label == "military uniform"
    assert reading.number == 1 and 0 < reading.latency < 5 and reader.latest() is reading


def test_frames_are_classified_at_most_max_rate_times_a_second(classifier, hopper_frame):
    clock = Clock()
    reader = live.LiveClassifier(classifier, max_rate=10, clock=clock)
    readings = []
    for _ in range(60):  # Two seconds of a 30 fps camera.
        readings.append(reader.process(hopper_frame))
        clock.now += 1 / 30
    assert readings[-1].number == 20, "10 predictions a second, not 30"
    assert readings[1] is readings[0] and readings[3] is not readings[0], "frames in between reuse the newest"
    assert reader.rate(window=2.0) == pytest.approx(10, abs=0.5)


def test_the_reading_is_drawn_along_the_bottom_of_the_frame(classifier, hopper_frame):
    reader = live.LiveClassifier(classifier)
    assert np.array_equal(live.overlay(hopper_frame, None), hopper_frame), "nothing to draw yet"
    drawn = reader.annotate(hopper_frame)
    assert drawn.shape == hopper_frame.shape and drawn.dtype == np.uint8
    assert np.array_equal(drawn[:300], hopper_frame[:300]), "the picture itself stays clear"
    assert not np.array_equal(drawn[-60:], hopper_frame[-60:]), "the labels are on the bottom rows"


def test_live_videos_share_the_servers_predictions_and_a_stopped_one_gives_its_share_back(classifier, hopper_frame):
    """A classroom of cameras cannot take the CPU: two share the budget, one alone has it all, none goes under the
    floor."""
    clock = Clock()
    budget = live.Budget(total=10, floor=2, clock=clock)
    first, second = (live.LiveClassifier(classifier, max_rate=15, clock=clock, budget=budget) for _ in range(2))
    for _ in range(60):  # Two seconds of two 30 fps cameras.
        first.process(hopper_frame)
        second.process(hopper_frame)
        clock.now += 1 / 30
    assert budget.sharing() == 2
    assert first.latest().number == pytest.approx(10, abs=1) and second.latest().number == pytest.approx(10, abs=1), \
        "5 a second each, not 10"
    before = first.latest().number
    for _ in range(120):  # The second camera stops: after ACTIVE_SECONDS the first has the whole budget.
        first.process(hopper_frame)
        clock.now += 1 / 30
    assert budget.sharing() == 1 and first.rate(window=1.0) == pytest.approx(10, abs=1)
    assert first.latest().number - before == pytest.approx(5 * live.ACTIVE_SECONDS + 10 * (4 - live.ACTIVE_SECONDS),
                                                            abs=2)
    crowd = [object() for _ in range(9)]
    for video in crowd:
        budget.rate(video)
    assert budget.rate(first) == 2, "ten cameras: never under the floor"


@pytest.fixture(scope="module")
def network(classifier):
    from hubdemo import explain
    return explain.CamNetwork(explain.gradcam_network(classifier))


def test_the_video_shows_where_the_model_looks_on_the_side_of_the_frame_with_the_photo(classifier, hopper_frame,
                                                                                        network):
    """The photo on the left half of a grey frame: the heat lies over the left half, and over the picture."""
    frame = np.full_like(hopper_frame, 128)
    frame[:, :320] = np.asarray(Image.fromarray(hopper_frame).resize((320, 480), Image.BILINEAR))
    reader = live.LiveClassifier(classifier)
    reader.look(live.gradcam(classifier, network))
    drawn = reader.annotate(frame)
    heat = reader.heat()
    assert heat.shape == (classifier.input_size,) * 2 and 0 <= heat.min() and heat.max() == pytest.approx(1)
    half = heat.shape[1] // 2
    assert heat[:, :half].mean() > 2 * heat[:, half:].mean(), "the heat is where the photo is"
    assert not np.array_equal(drawn[:300], frame[:300]), "the heat is laid over the picture"
    assert drawn[:300].std() > 0 and drawn.shape == frame.shape and drawn.dtype == np.uint8
    reader.look(None)
    assert reader.heat() is None and np.array_equal(reader.annotate(frame)[:300], frame[:300]), "and taken off"


def test_heatmaps_are_made_at_most_heat_rate_times_a_second(classifier, hopper_frame, network):
    clock, made = Clock(), []
    explainer = live.gradcam(classifier, network)
    reader = live.LiveClassifier(classifier, max_rate=15, heat_rate=5, clock=clock)
    reader.look(lambda batch, index: made.append(index) or explainer(batch, index))
    for _ in range(60):  # Two seconds of a 30 fps camera.
        reader.annotate(hopper_frame)
        clock.now += 1 / 30
    assert reader.latest().number == 30 and len(made) == 10, "30 predictions, 10 heatmaps in two seconds"
    assert set(made) == {reader.latest().predictions[0].index}, "each for the top class"
    assert reader.heat_rate(window=2.0) == pytest.approx(5, abs=0.5)


def camera(tap, stop, fps=30.0, frames=None):
    """A camera thread: numbered frames (the number in every pixel) into ``tap`` at ``fps`` until ``stop``."""
    import threading
    import time

    def run():
        number = 0
        while not stop.is_set() and (frames is None or number < frames):
            number += 1
            tap.put(np.full((48, 64, 3), number % 256, np.uint8))
            time.sleep(1 / fps)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_recording_takes_newer_frames_spaced_apart_and_marks_the_video_meanwhile():
    import threading
    tap, stop = live.FrameTap(), threading.Event()
    plain = np.zeros((48, 64, 3), np.uint8)
    assert tap.put(plain) is plain, "not recording: the video passes unchanged"
    camera(tap, stop)
    progress = []
    try:
        photos = tap.record(6, 0.1, on_photo=progress.append)
    finally:
        stop.set()
    numbers = [int(p[0, 0, 0]) for p in photos]
    assert len(photos) == 6 and progress == [1, 2, 3, 4, 5, 6]
    # A 30 fps camera sends a frame every 33 ms: 0.1 s apart is every third frame or so, never the same one.
    gaps = np.diff(numbers)
    assert (gaps >= 2).all() and (gaps <= 6).all(), numbers
    assert tap.put(plain) is plain, "the mark goes when the recording ends"


def test_the_recording_mark_shows_while_recording():
    import threading
    tap, stop = live.FrameTap(), threading.Event()
    marked = []
    grey = np.full((240, 320, 3), 128, np.uint8)

    def watch(n):  # While the recording runs, the frames coming back carry its red mark.
        marked.append(tap.put(grey.copy()))
    camera(tap, stop)
    try:
        tap.record(2, 0.05, on_photo=watch)
    finally:
        stop.set()
    frame = marked[0]
    assert frame.shape == grey.shape and not np.array_equal(frame, grey)
    red = (frame[..., 0] > 200) & (frame[..., 1] < 80) & (frame[..., 2] < 80)
    assert red[:40, :40].sum() > 50, "a red dot in the top left corner"


def test_a_camera_that_stops_gives_the_photos_taken_so_far():
    import threading
    import time
    tap, stop = live.FrameTap(), threading.Event()
    thread = camera(tap, stop, frames=10)
    started = time.monotonic()
    photos = tap.record(50, 0.05, timeout=0.5)
    assert 1 <= len(photos) <= 10 and time.monotonic() - started < 5
    thread.join()
    assert live.FrameTap().record(3, 0.05, timeout=0.2) == [], "no video at all: nothing, and no hang"
