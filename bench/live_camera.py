"""Live camera: predictions per second and frame-to-label latency, EfficientNet-Lite0 plus a trained head.

The frames take the server's real path in a WebRTC session: VP8-encoded
camera video at 30 fps is decoded, handed to streamlit-webrtc's
``AsyncVideoProcessTrack`` (newest frame only, on its own thread), passed
through the app's callback (to RGB, ``LiveClassifier.annotate``, back to a
video frame) and VP8-encoded again, as for the video sent back to the browser.
The camera is simulated (real flower photos, 640×480), so no browser's CPU is
in the figures; the browser test shows the same path end to end.

Baseline, the tutorial's way: ``model.predict`` on every frame the processing
thread picks up, the same path otherwise.

Then the app again with "Where is it looking?" on: a Grad-CAM heatmap laid over
the video several times a second.

Prints for each: predictions a second (goal >= 10), latency from a frame's
arrival to its label being ready, and the age of the label on each frame sent
back, i.e. from frame to shown label (goal <= 200 ms, median and 95th
percentile), and CPU per prediction.

With ``--cameras 2 4 8``, that many cameras at once on one server, sharing its
predictions as a classroom's phones do (``live.Budget``): each one's rate, and
the CPU of them all, video decoding and encoding included.

    python bench/live_camera.py [--data DIR] [--seconds 20] [--cameras 2 4 8]
"""

import argparse
import asyncio
import fractions
import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
logging.getLogger("streamlit").setLevel(logging.ERROR)  # Outside `streamlit run`, its caches warn; harmless here.
import camera  # noqa: E402  (imports streamlit-webrtc safely beside TensorFlow)
from hubdemo import datasets, explain, images, live, runs, training  # noqa: E402

av, _ = camera.import_webrtc()
from aiortc import MediaStreamTrack  # noqa: E402
from aiortc.codecs import Vp8Decoder, Vp8Encoder, vp8_depayload  # noqa: E402
from aiortc.jitterbuffer import JitterFrame  # noqa: E402
from streamlit_webrtc.models import CallbackAttachableProcessor  # noqa: E402
from streamlit_webrtc.process import AsyncVideoProcessTrack  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "flowers"
FEATURES = "bundled:efficientnet_lite0/feature_vector"
FPS, SIZE = 30, (640, 480)
TIME_BASE = fractions.Fraction(1, 90_000)


def trained_model(data: Path):
    """A head trained on the photos' cached features (5 epochs): Lite0 features plus a new last layer."""
    dataset = datasets.load_folder(data)
    run = runs.Run(runs.TrainConfig(epochs=5), feature_handle=FEATURES)
    training.train(dataset, run)
    return dataset, run.model, run.evaluation.accuracy


def encoded_video(files: list[Path], seconds_each: float = 0.5) -> list[bytes]:
    """The photos as a looping VP8 stream (a new photo every half second), encoded once beforehand."""
    encoder, stream = Vp8Encoder(), []
    for index, path in enumerate(files):
        picture = images.read_image(path.read_bytes()).resize(SIZE)
        frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24").reformat(format="yuv420p")
        for repeat in range(int(FPS * seconds_each)):
            frame.pts, frame.time_base = len(stream) * 3000, TIME_BASE
            payloads, _ = encoder.encode(frame, force_keyframe=repeat == 0)
            stream.append(b"".join(vp8_depayload(p) for p in payloads))
    return stream


class Camera(MediaStreamTrack):
    """Decodes the stream in real time at 30 fps, as the server does with a browser's camera."""

    kind = "video"

    def __init__(self, stream: list[bytes]):
        super().__init__()
        self.stream, self.decoder, self.count = stream, Vp8Decoder(), 0
        self.arrived: dict[int, float] = {}  # pts → when the frame was ready on the server.
        self.start = time.monotonic()

    async def recv(self):
        due = self.start + self.count / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        data = self.stream[self.count % len(self.stream)]
        (frame,) = self.decoder.decode(JitterFrame(data, self.count * 3000))
        frame.pts, frame.time_base = self.count * 3000, TIME_BASE
        self.arrived[frame.pts] = time.monotonic()
        self.count += 1
        return frame


class Baseline:
    """The tutorial's code: ``model.predict`` on each frame, with PIL's resize; the same reading interface."""

    def __init__(self, trained):
        self.model, self.labels, self.size = trained.model, trained.labels, trained.input_size
        self.readings: list[live.Reading] = []

    def annotate(self, rgb, arrived):
        from PIL import Image
        batch = np.asarray(Image.fromarray(rgb).resize((self.size, self.size)), np.float32)[None] / 255.0
        probs = self.model.predict(batch, verbose=0)[0]
        best = int(probs.argmax())
        from hubdemo.models import Prediction
        reading = live.Reading((Prediction(best, self.labels[best], float(probs[best])),), arrived,
                               time.monotonic(), len(self.readings) + 1)
        self.readings.append(reading)
        return live.overlay(rgb, reading)

    def latest(self):
        return self.readings[-1] if self.readings else None


async def measure(reader, stream: list[bytes], seconds: float, warmup: float = 3.0) -> dict:
    """Run the WebRTC server path for ``seconds`` after ``warmup``; what came out of it."""
    source = Camera(stream)

    def callback(frame):  # As camera.live_ui's, but stamped with when the frame reached the server.
        rgb = frame.to_ndarray(format="rgb24")
        return av.VideoFrame.from_ndarray(reader.annotate(rgb, source.arrived.get(frame.pts)), format="rgb24")

    track = AsyncVideoProcessTrack(track=source, processor=CallbackAttachableProcessor(callback, None, None))
    encoder = Vp8Encoder()
    ages, first, cpu = [], None, None
    began = time.monotonic()
    while time.monotonic() - began < warmup + seconds:
        frame = await track.recv()
        encoder.encode(frame)  # The video sent back to the browser.
        if time.monotonic() - began < warmup:
            continue
        if first is None:
            first, cpu = reader.latest(), time.process_time()
        reading = reader.latest()
        if reading is not None:
            ages.append(time.monotonic() - reading.frame_time)
    cpu = time.process_time() - cpu
    last = reader.latest()
    track.stop()
    count = last.number - first.number
    latencies = [r.latency for r in getattr(reader, "readings", [])[first.number:]] or None
    return {"rate": count / seconds, "ages": ages, "cpu_per_prediction": cpu / max(count, 1), "cpu": cpu / seconds,
            "latencies": latencies}


async def measure_many(readers, stream: list[bytes], seconds: float) -> tuple[list[dict], float]:
    """Several cameras at once on one server (a classroom): each one's figures, and the CPU of them all in cores."""
    started = time.process_time()
    results = await asyncio.gather(*(measure(reader, stream, seconds) for reader in readers))
    return results, (time.process_time() - started) / (seconds + 3.0)


def percentile(values, q) -> float:
    return float(np.percentile(values, q)) * 1000


class Recording(live.LiveClassifier):
    """The app's LiveClassifier, keeping every reading for the latency figures; with ``look``, showing where the
    model looks too (the page's "Where is it looking?")."""

    def __init__(self, classifier, look: bool = False, budget: live.Budget | None = None):
        super().__init__(classifier, budget=budget)
        self.readings = []
        if look:
            self.look(live.gradcam(classifier, explain.CamNetwork(explain.gradcam_network(classifier))))

    def process(self, rgb, arrived=None):
        before = self.latest()
        reading = super().process(rgb, arrived)
        if reading is not before:
            self.readings.append(reading)
        return reading


def main():
    global FPS, SIZE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=int, default=FPS, help="the camera's frames a second")
    parser.add_argument("--width", type=int, default=SIZE[0], help="the camera's width (4:3)")
    parser.add_argument("--cameras", type=int, nargs="*", default=[],
                        help="then this many cameras at once, sharing the server's predictions (e.g. 2 4 8)")
    args = parser.parse_args()
    FPS, SIZE = args.fps, (args.width, args.width * 3 // 4)
    dataset, trained, accuracy = trained_model(args.data)
    photos = [dataset.files[i] for i in np.linspace(0, len(dataset) - 1, 8).astype(int)]
    stream = encoded_video(photos)
    for count in args.cameras:
        budget = live.Budget()
        each, cores = asyncio.run(measure_many([Recording(trained, budget=budget) for _ in range(count)], stream,
                                               args.seconds))
        rates = [r["rate"] for r in each]
        ages = [age for r in each for age in r["ages"]]
        print(f"{count} cameras at once: {min(rates):.1f}-{max(rates):.1f} predictions/s each, {sum(rates):.1f} in "
              f"all (budget {budget.total:.0f}, at least {budget.floor:.0f} each); frame -> shown label median "
              f"{percentile(ages, 50):.0f} ms, p95 {percentile(ages, 95):.0f} ms; CPU {cores:.2f} cores in all")
    print(f"config: model=EfficientNet-Lite0 + head trained on {args.data.name} ({len(dataset)} photos, val accuracy "
          f"{accuracy:.2f}); camera {SIZE[0]}x{SIZE[1]} at {FPS} fps, VP8 decode and encode; "
          f"max rate {live.MAX_RATE:.0f}/s; {args.seconds:.0f} s each")
    results = {}
    for name, reader in (("app (LiveClassifier)", Recording(trained)), ("baseline (model.predict per frame)",
                                                                        Baseline(trained)),
                         ("app with live heatmaps (Grad-CAM)", Recording(trained, look=True))):
        r = asyncio.run(measure(reader, stream, args.seconds))
        results[name] = r
        heats = reader.heat_rate(window=4.0) if isinstance(reader, Recording) else 0.0
        ready = (f"frame -> label ready median {percentile(r['latencies'], 50):4.0f} ms, "
                 f"p95 {percentile(r['latencies'], 95):4.0f} ms; " if r["latencies"] else "")
        print(f"{name:36s} {r['rate']:5.1f} predictions/s (goal >= 10); {ready}frame -> shown label median "
              f"{percentile(r['ages'], 50):4.0f} ms, p95 {percentile(r['ages'], 95):4.0f} ms (goal <= 200); "
              f"CPU {r['cpu']:.2f} cores, {r['cpu_per_prediction'] * 1000:.0f} ms per prediction")
        if heats:
            print(f"{'':36s} and {heats:.1f} heatmaps/s laid over the video (at most {live.HEAT_RATE:.0f})")
    app, base, _heat = results.values()
    print(f"ratios app/baseline: CPU per prediction {base['cpu_per_prediction'] / app['cpu_per_prediction']:.2f}x "
          f"less; shown-label latency median {statistics.median(base['ages']) / statistics.median(app['ages']):.2f}x "
          "lower")


if __name__ == "__main__":
    main()
