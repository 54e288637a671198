"""A classroom's load on the server, driven over Streamlit's own websocket protocol (no browsers).

Starts the app in classroom mode (HTTPS, training in worker processes), then:

1. Baseline: one session trains with data augmentation while nobody else is there.
2. Load: the same training again while ``--sessions`` students each open the app (first result: the
   tutorial's sample photo classified) and then upload and classify a flower photo every few seconds.

Each simulated student is a websocket client speaking Streamlit's protocol as the browser does
(``BackMsg`` rerun requests with widget states, file uploads through ``/_stcore/upload_file``, ``ForwardMsg``
deltas back), so the server does all the work it would do for a browser, and the machine's two cores are
not spent rendering 20 Chromium tabs. XSRF protection is off for the bench's own server (a browser gets its
token from a cookie the client would otherwise have to mimic).

Prints upload → result latency p50/p95/max, first-result times, errors, and the training run's slowdown.

    python bench/classroom_load.py [--sessions 20] [--interval 3] [--epochs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests
import urllib3
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
FLOWERS = ROOT.parent / "shared" / "data" / "flowers"
UNVERIFIED = ssl._create_unverified_context()  # The classroom's self-signed certificate.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


class Student:
    """One browser tab, as Streamlit's frontend speaks to the server."""

    def __init__(self, url: str):
        self.url = url
        self.ws = None
        self.session_id = ""
        self.widgets: dict[tuple[str, str], str] = {}  # (kind, label) → widget id, from the deltas.
        self.texts: list[str] = []
        self.errors = 0

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url.replace("https", "wss") + "/_stcore/stream", ssl=UNVERIFIED,
                                           subprotocols=["streamlit"], origin=self.url, max_size=None,
                                           ping_interval=None)

    async def run(self, page: str = "", states=(), timeout: float = 120) -> float:
        """One rerun of ``page`` with these widget states; returns its seconds once the script finished."""
        msg = BackMsg()
        msg.rerun_script.page_name = page
        msg.rerun_script.widget_states.widgets.extend(states)
        started = time.monotonic()
        await self.ws.send(msg.SerializeToString())
        self.texts = []
        while True:
            reply = ForwardMsg.FromString(await asyncio.wait_for(self.ws.recv(), timeout))
            kind = reply.WhichOneof("type")
            if kind == "new_session":
                self.session_id = reply.new_session.initialize.session_id
            elif kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                self._read(reply.delta.new_element)
            elif kind == "script_finished":
                if reply.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                             ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                    return time.monotonic() - started
                self.errors += 1
                return time.monotonic() - started

    def _read(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self.errors += 1
        widget = getattr(element, kind)
        if hasattr(widget, "id") and hasattr(widget, "label") and widget.id:
            self.widgets[(kind, widget.label)] = widget.id
        if kind == "markdown":
            self.texts.append(element.markdown.body)
        elif kind == "metric":
            self.texts.append(f"{element.metric.label}: {element.metric.body}")
        elif kind == "progress":
            self.texts.append(element.progress.text)

    def widget(self, kind: str, label_start: str) -> str:
        return next(wid for (k, label), wid in self.widgets.items() if k == kind and label.startswith(label_start))

    async def put_files(self, label: str, files: list[tuple[str, bytes]]):
        """What the browser does when photos are dropped on an uploader: ask for upload URLs, PUT each file.

        Returns the uploader's new widget state, to send with the next rerun.
        """
        state = _widget_state(self.widget("file_uploader", label))
        for name, data in files:
            msg = BackMsg()
            msg.file_urls_request.request_id = str(random.random())
            msg.file_urls_request.file_names.append(name)
            msg.file_urls_request.session_id = self.session_id
            await self.ws.send(msg.SerializeToString())
            while True:
                reply = ForwardMsg.FromString(await self.ws.recv())
                if reply.WhichOneof("type") == "file_urls_response":
                    urls = reply.file_urls_response.file_urls[0]
                    break
            response = await asyncio.to_thread(requests.put, self.url + urls.upload_url, verify=False, timeout=120,
                                               files={"file": (name, data, "image/jpeg")})
            response.raise_for_status()
            info = state.file_uploader_state_value.uploaded_file_info.add()
            info.name, info.size, info.file_id = name, len(data), urls.file_id
            info.file_urls.CopyFrom(urls)
        return state

    async def upload(self, name: str, data: bytes) -> None:
        """Drop one photo on the classifier page and wait for its result."""
        await self.run("", [await self.put_files("Drop photos here", [(name, data)])])


def _widget_state(widget_id: str, **value):
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    state = WidgetState(id=widget_id)
    for key, v in value.items():
        setattr(state, key, v)
    return state


async def student(url: str, photos: list[Path], until: float, interval: float, stats: dict) -> None:
    """Open the app (first result: the sample photo), then upload and classify a photo every few seconds."""
    me = Student(url)
    started = time.monotonic()
    try:
        await me.connect()
        await me.run()
        if not any("%" in t and "·" in t for t in me.texts):
            raise RuntimeError("no classification on the first page")
        stats["first"].append(time.monotonic() - started)
        while time.monotonic() < until:
            await asyncio.sleep(interval * random.uniform(0.7, 1.3))
            photo = random.choice(photos)
            t0 = time.monotonic()
            await me.upload(photo.name, photo.read_bytes())
            if not any(t.startswith("### ") and "%" in t for t in me.texts):
                raise RuntimeError("no result after the upload")
            stats["latency"].append(time.monotonic() - t0)
    except Exception as err:  # noqa: BLE001 (counted and shown; the other students go on)
        stats["failures"].append(f"{err.__class__.__name__}: {err}")
    finally:
        stats["errors"] += me.errors
        if me.ws is not None:
            await me.ws.close()


async def trainer(url: str, epochs: int) -> float:
    """Open the Train page (the teacher's flowers), turn augmentation on, press Train; the run's seconds."""
    me = Student(url)
    await me.connect()
    await me.run("train")
    states = [_widget_state(me.widget("number_input", "Epochs"), int_value=epochs),
              _widget_state(me.widget("checkbox", "Data augmentation"), bool_value=True)]
    await me.run("train", states)
    await me.run("train", [*states, _widget_state(me.widget("button", "Train"), trigger_value=True)])
    while True:
        await asyncio.sleep(3)
        await me.run("train", states)
        done = [t for t in me.texts if t.startswith("Training time: ")]
        if done:
            await me.ws.close()
            return float(done[0].split()[2])
        if any("stopped unexpectedly" in t or "failed" in t for t in me.texts):
            raise RuntimeError("the training run failed")


def serve(port: int, cache: str):
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.enableXsrfProtection", "false",
               "--browser.gatherUsageStats", "false", "--", "--classroom", "--data", str(FLOWERS)]
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **({"HUBDEMO_CACHE_DIR": cache} if cache else {})})
    url = f"https://localhost:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", context=UNVERIFIED, timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    log.seek(0)
    raise SystemExit(f"the app did not start:\n{log.read()[-3000:]}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


async def main(args) -> None:
    import psutil
    photos = sorted(FLOWERS.rglob("*.jpg"))
    proc, url = serve(args.port, args.cache)
    server = psutil.Process(proc.pid)
    try:
        warm = Student(url)  # The server's warm start: models loaded before the class arrives.
        await warm.connect()
        await warm.run()
        await warm.ws.close()
        await asyncio.sleep(5)
        alone = await trainer(url, args.epochs)
        print(f"training alone (augmentation, {args.epochs} epochs, {len(photos)} photos): {alone:.1f} s")

        stats = {"first": [], "latency": [], "failures": [], "errors": 0}
        training = asyncio.create_task(trainer(url, args.epochs))
        await asyncio.sleep(2)
        until = time.monotonic() + args.seconds
        students = []
        for _ in range(args.sessions):  # They arrive over a few seconds, as a class does.
            students.append(asyncio.create_task(student(url, photos, until, args.interval, stats)))
            await asyncio.sleep(0.25)
        await asyncio.gather(*students)
        rss = server.memory_info().rss + sum(c.memory_info().rss for c in server.children(recursive=True))
        loaded = await training
        lat, first = stats["latency"], stats["first"]
        print(f"{args.sessions} students, a photo every ~{args.interval:g} s for {args.seconds:g} s, while one trains:")
        print(f"  upload → result: {len(lat)} photos, p50 {percentile(lat, .5):.2f} s, p95 {percentile(lat, .95):.2f} s, "
              f"max {max(lat, default=float('nan')):.2f} s (goal p95 ≤ 1 s)")
        print(f"  a new session's first result: p50 {percentile(first, .5):.2f} s, max "
              f"{max(first, default=float('nan')):.2f} s (goal ≤ 3 s)")
        print(f"  errors on pages: {stats['errors']}; failed sessions: {len(stats['failures'])} {stats['failures'][:3]}")
        print(f"  training under load: {loaded:.1f} s against {alone:.1f} s alone: {loaded / alone:.2f}× slower "
              "(it kept going)")
        print(f"  server and workers resident memory: {rss / 2**30:.2f} GiB")
    finally:
        proc.send_signal(signal.SIGINT)  # As Ctrl+C: the server cleans up after itself.
        proc.wait(20)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between a student's photos")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the students keep going")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--cache", default="", help="HUBDEMO_CACHE_DIR for the server (default: the usual cache)")
    asyncio.run(main(parser.parse_args()))
