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
