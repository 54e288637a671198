"""The classroom server's memory after 20 students each built a dataset of 50 phone photos and trained once.

Each simulated student (Streamlit's websocket protocol, as in ``classroom_load.py``) opens the Train
page, picks "Build your own", adds two classes and uploads 25 photos of about 3 MB to each (phone-sized:
2,800×2,100 JPEGs made from the flower photos), then trains. Photos built in the browser go to the
session's workspace on disk and the uploaders are emptied, so the server's memory should not grow by the
3 GB uploaded. Prints the server's resident memory (and its training workers') before, after, and per
session.

    python bench/classroom_memory.py [--sessions 20] [--photos 50]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classroom_load import FLOWERS, Student, _widget_state, serve  # noqa: E402

BUILD = "Build your own (photos or camera)"


def phone_photos(count: int) -> list[tuple[str, bytes]]:
    """``count`` JPEGs of about 3 MB: flower photos at a phone's size with a little sensor noise."""
    rng = np.random.default_rng(0)
    sources = sorted(FLOWERS.rglob("*.jpg"))[:count]
    photos = []
    for i, path in enumerate(sources):
        image = np.asarray(Image.open(path).convert("RGB").resize((2800, 2100), Image.BICUBIC), dtype=np.int16)
        noisy = np.clip(image + rng.normal(0, 14, image.shape), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noisy).save(buffer, "JPEG", quality=95)
        photos.append((f"IMG_{i:04d}.jpg", buffer.getvalue()))
    return photos


async def upload_many(me: Student, label: str, photos, page: str) -> None:
    """Drop several photos on one uploader at once, as a browser does, then rerun with all of them."""
    state = await me.put_files(label, photos)
    await me.run(page, [_widget_state(me.widget("radio", "Dataset"), string_value=BUILD), state], timeout=600)


async def one_student(url: str, photos, index: int) -> float:
    """Build a two-class dataset of ``photos`` in the browser's way, train once; returns the run's seconds."""
    me = Student(url)
    await me.connect()
    await me.run("train")
    source = _widget_state(me.widget("radio", "Dataset"), string_value=BUILD)
    await me.run("train", [source])
    half = len(photos) // 2
    for name in ("daisy", "tulip"):
        await me.run("train", [source, _widget_state(me.widget("text_input", "New class name"), string_value=name),
                               _widget_state(me.widget("button", "Add class"), trigger_value=True)])
    for name, chunk in (("daisy", photos[:half]), ("tulip", photos[half:])):
        await upload_many(me, f"Photos of {name}", chunk, "train")
    await me.run("train", [source])
    await me.run("train", [source, _widget_state(me.widget("button", "Train"), trigger_value=True)])
    while True:
        await asyncio.sleep(2)
        await me.run("train", [source])
        done = [t for t in me.texts if t.startswith("Training time: ")]
        if done:
            await me.ws.close()
            return float(done[0].split()[2])
        if any("stopped unexpectedly" in t for t in me.texts):
            raise RuntimeError(f"student {index}: the training run failed")


async def main(args) -> None:
    import psutil
    photos = phone_photos(args.photos)
    mb = sum(len(d) for _, d in photos) / 2**20
    print(f"{len(photos)} phone photos, {mb / len(photos):.1f} MB each on average")
    cache = tempfile.mkdtemp(prefix="hubdemo-memory-")  # A fresh cache: this run's workspace, removed after.
    proc, url = serve(args.port, cache)
    server = psutil.Process(proc.pid)

    def rss() -> tuple[float, float]:
        workers = sum(c.memory_info().rss for c in server.children(recursive=True))
        return server.memory_info().rss / 2**30, workers / 2**30

    try:
        warm = Student(url)
        await warm.connect()
        await warm.run()
        await warm.ws.close()
        await asyncio.sleep(5)
        before = rss()
        print(f"server at rest: {before[0]:.2f} GiB (training workers {before[1]:.2f} GiB)")
        started = time.monotonic()
        seconds = []
        for batch in range(0, args.sessions, args.together):  # A few students at a time, as a class works.
            seconds += await asyncio.gather(*(one_student(url, photos, i)
                                              for i in range(batch, min(args.sessions, batch + args.together))))
            server_gb, workers_gb = rss()
            print(f"  after {min(args.sessions, batch + args.together)} students: server {server_gb:.2f} GiB, "
                  f"workers {workers_gb:.2f} GiB")
        after = rss()
        print(f"{args.sessions} students built {args.photos} photos each ({args.sessions * mb / 1024:.1f} GB uploaded) "
              f"and trained once in {time.monotonic() - started:.0f} s (runs of {min(seconds):.1f}–{max(seconds):.1f} s)")
        print(f"server: {after[0]:.2f} GiB (+{(after[0] - before[0]) * 1024 / args.sessions:.0f} MiB per student); "
              f"training workers: {after[1]:.2f} GiB")
    finally:
        proc.send_signal(signal.SIGINT)  # As Ctrl+C: the server cleans up after itself.
        proc.wait(20)
        print(f"workspace on disk at the end: {sum(f.stat().st_size for f in Path(cache).rglob('*') if f.is_file()) / 2**30:.2f} GiB "
              "(the model and feature caches included)")
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--photos", type=int, default=50)
    parser.add_argument("--together", type=int, default=5, help="students building at the same time")
    parser.add_argument("--port", type=int, default=8598)
    asyncio.run(main(parser.parse_args()))
