"""Training in worker processes, through a bounded queue: a room of students cannot stall the server.

In a classroom every run trains in a separate process at a lower CPU
priority, at most ``slots`` at once (one per two cores); the rest wait in
a queue that tells each run its place and lets it be cancelled. A worker
that crashes or is killed (out of memory) takes only its own run with it:
the server and every other session carry on, and the run says what
happened. Workers stay alive between runs with TensorFlow loaded, so a run
does not pay for a new process every time.

The worker trains with :func:`hubdemo.training.train`, as the app does in
its own process; its progress calls come back over a pipe into the
session's :class:`~hubdemo.runs.Run`, then the learnt weights, from which
:func:`hubdemo.training.rebuild` makes the model in the server.
"""

from __future__ import annotations

import atexit
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from hubdemo import i18n, scratch
from hubdemo.i18n import _, ngettext
from hubdemo.runs import Run

NICE = 10  # Below the server's priority: a click is answered before a training step.
DEFAULT_SLOTS = max(1, (os.cpu_count() or 2) // 2)  # Runs training at once: one per two cores.


@dataclass
class _Job:
    dataset: object
    run: Run
    extractor: object = None


class TrainerPool:
    """At most ``slots`` runs train at once, each in a worker process; the others queue in order."""

    def __init__(self, slots: int = DEFAULT_SLOTS):
        self.slots = slots
        self._queue: collections.deque[_Job] = collections.deque()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._lock = threading.Lock()
        scratch.sweep()
        atexit.register(self.close)  # A server that stops normally (Ctrl+C) takes its workers and their files along.

    def submit(self, dataset, run: Run, extractor=None) -> Run:
        """Queue ``run``; it starts when a slot frees up. Returns at once."""
        run.set_status("queued", _("Waiting for a free trainer…"))
        with self._lock:
            self._queue.append(_Job(dataset, run, extractor))
        self._pump()
        return run

    @property
    def queued(self) -> int:
        with self._lock:
            return sum(job.run.status == "queued" for job in self._queue)

    def warm(self) -> None:
        """Start every slot's worker now (TensorFlow and the default model load while nobody waits)."""
        with self._lock:
            while len(self._idle) + len(self._busy) < self.slots:
                self._idle.append(_Worker())

    def workers(self) -> list[int]:
        """The process ids of the workers (a test kills one)."""
        with self._lock:
            return [w.process.pid for w in [*self._idle, *self._busy]]

    def close(self) -> None:
        with self._lock:
            for worker in [*self._idle, *self._busy]:
                worker.close()

    def _pump(self) -> None:
        """Start queued runs while slots are free; tell the others their place in the queue."""
        with self._lock:
            self._queue = collections.deque(job for job in self._queue if job.run.status == "queued")
            while self._queue and len(self._busy) < self.slots:
                job = self._queue.popleft()
                worker = self._idle.pop() if self._idle else _Worker()
                self._busy.add(worker)
                threading.Thread(target=self._train, args=(worker, job), name="hubdemo-trainer", daemon=True).start()
            for place, job in enumerate(self._queue, 1):
                with i18n.speaking(job.run.language):
                    job.run.set_status("queued", ngettext(
                        "Waiting for a free trainer: {place} of {queued} in the queue ({slots} run trains at a "
                        "time here).", "Waiting for a free trainer: {place} of {queued} in the queue ({slots} runs "
                        "train at a time here).", self.slots).format(place=place, queued=len(self._queue),
                                                                     slots=self.slots))

    def _train(self, worker: _Worker, job: _Job) -> None:
        try:
            worker.train(job)
        finally:
            with self._lock:
                self._busy.discard(worker)
                if worker.alive:
                    self._idle.append(worker)
            self._pump()


class _Worker:
    """One worker process with TensorFlow loaded, the pipe to it, and its scratch folder.

    The scratch folder is the worker's ``TMPDIR`` (:mod:`hubdemo.scratch`): TensorFlow's autograph files
    would stay in ``/tmp`` otherwise, since a worker never exits normally (it is killed). Its folder goes
    with it.
    """

    def __init__(self):
        self.scratch = scratch.new_folder()  # Named for the server: swept if the server is killed.
        # A fresh interpreter (``python -m hubdemo.trainers``), not a fork: no copy of the server's threads or
        # memory, and nothing of the server's main script runs again. Messages go over a socket pair.
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "hubdemo.trainers", str(theirs.fileno())],
                                        pass_fds=[theirs.fileno()], env={**os.environ, "TMPDIR": str(self.scratch)})
        theirs.close()
        self.conn = Connection(ours.detach())

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def train(self, job: _Job) -> None:
        """Send the job, relay its progress into the run until the weights come back or the worker dies."""
        run = job.run
        run.set_status("starting")
        try:
            self.conn.send(("train", job.dataset, run.config, run.feature_handle, run.language))
            stop_sent = False
            while True:
                if run.stop_event.is_set() and not stop_sent:
                    self.conn.send(("stop",))
                    stop_sent = True
                if not self.conn.poll(0.2):
                    if not self.alive:
                        raise EOFError
                    continue
                kind, *rest = self.conn.recv()
                if kind == "progress":
                    getattr(run, rest[0])(*rest[1])
                elif kind == "end":  # Stopped before training began, or failed: no model.
                    run.set_status(*rest)
                    return
                elif kind == "result":
                    self._adopt(job, *rest)
                    return
        except (EOFError, OSError):
            try:
                code = self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            self._remove_scratch()
            with i18n.speaking(run.language):
                run.set_status("error", _crash_message(code))

    @staticmethod
    def _adopt(job: _Job, weights, evaluation, seconds, status, message) -> None:
        from hubdemo import training
        run = job.run
        run.model = training.rebuild(run, job.dataset.class_names, weights, job.extractor)
        run.evaluation, run.seconds = evaluation, seconds
        run.set_status(status, message)


def _crash_message(code: int | None) -> str:
    if code is not None and code < 0:
        why = {signal.SIGKILL: _("it was killed (most often: the computer ran out of memory)"),
               signal.SIGSEGV: _("it crashed"), signal.SIGTERM: _("it was stopped")}.get(
            -code, _("signal {number}").format(number=-code))
    else:
        why = _("it ended with code {code}").format(code=code)
    return _("The training process stopped unexpectedly: {why}. Nothing else was affected. Try again, with "
             "fewer photos or a smaller batch size if it happens again.").format(why=why)


# --- In the worker process --------------------------------------------------------------------

class _RelayRun(Run):
    """A run in the worker whose progress goes over the pipe; the final status waits for the weights."""

    def __init__(self, send, config, feature_handle):
        super().__init__(config, feature_handle=feature_handle)
        self._send = send

    def set_status(self, status: str, message: str = "") -> None:
        super().set_status(status, message)
        if status not in ("done", "stopped"):  # Those come with the weights, once they are on their way.
            self._send(("progress", "set_status", (status, message)))

    def set_extracted(self, done: int, total: int) -> None:
        super().set_extracted(done, total)
        self._send(("progress", "set_extracted", (done, total)))

    def begin_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        super().begin_epoch(epoch, steps_per_epoch)
        self._send(("progress", "begin_epoch", (epoch, steps_per_epoch)))

    def record_batch(self, step: int, loss: float, accuracy: float) -> None:
        super().record_batch(step, loss, accuracy)
        self._send(("progress", "record_batch", (step, loss, accuracy)))

    def record_epoch(self, logs: dict) -> None:
        super().record_epoch(logs)
        self._send(("progress", "record_epoch", ({k: float(v) for k, v in logs.items()},)))


def _serve(conn) -> None:
    """The worker's life: load TensorFlow once, then train each job sent, listening for Stop meanwhile."""
    # Ctrl+C in the teacher's terminal reaches every process of the app, this one too: the server stops its
    # workers itself (and a worker whose server has gone ends at once, below), without a traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(NICE)
    except OSError:
        pass
    import queue

    import hubdemo  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
    from hubdemo import training
    from hubdemo.errors import HubDemoError

    lock, state_lock = threading.Lock(), threading.Lock()
    jobs: queue.Queue = queue.Queue()
    current: list[Run] = []
    # Jobs received, and how many of them were asked to stop: a Stop can come before its job has begun here.
    counts = {"received": 0, "stopped": 0}

    def send(message) -> None:
        with lock:
            conn.send(message)

    def listen() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # The server is gone.
            with state_lock:
                if message[0] == "stop":  # Always about the newest job sent to this worker.
                    counts["stopped"] = counts["received"]
                    for run in current:
                        run.stop()
                else:
                    counts["received"] += 1
                    jobs.put(message)

    threading.Thread(target=listen, daemon=True).start()
    from hubdemo import bundled
    extractors: dict = {bundled.FEATURES_HANDLE: training.FeatureExtractor(bundled.FEATURES_HANDLE)}  # The usual one, ready.
    number = 0
    while True:
        _kind, dataset, config, handle, language = jobs.get()
        number += 1
        i18n.set_language(language)
        run = _RelayRun(send, config, handle)
        with state_lock:
            current[:] = [run]
            if counts["stopped"] >= number:  # Stopped before it began here: it stops at its first chance.
                run.stop()
        try:
            started = time.monotonic()
            if config.uses_cached_features and handle not in extractors:
                extractors[handle] = training.FeatureExtractor(handle)
            trained = training.train(dataset, run, extractors.get(handle))
            if trained is None:
                send(("end", "stopped", _("Stopped before training began.")))
                continue
            send(("result", trained.learned_weights(), run.evaluation, run.seconds or time.monotonic() - started,
                  run.status, run.snapshot().message))
        except HubDemoError as err:
            send(("end", "error", str(err)))
        except Exception as err:  # noqa: BLE001 (the run says what failed; the worker lives on)
            send(("end", "error", _("Training failed: {error}: {message}").format(
                error=err.__class__.__name__, message=err)))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
