"""Training runs: their settings, live progress and record, shared by the page and the CLI (threads only, no TensorFlow).

A :class:`Run` is written by the training thread (``set_status``,
``record_batch``…) and read by a page through :meth:`Run.snapshot`, so the
thread never touches Streamlit. A session's runs live in a :class:`RunBook`:
every run keeps its settings, curves and evaluation; only the newest few keep
their model in memory (and its learned weights on disk, so a restart gives it back).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np

from hubdemo import i18n, paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _

# How each setting is named on the page and in messages.
SETTING_WORDS = {"epochs": N_("epochs {value}"), "batch_size": N_("batch size {value}"),
                 "learning_rate": N_("learning rate {value}"), "validation_split": N_("validation share {value}"),
                 "seed": N_("seed {value}"), "augment": N_("augmentation {value}"), "dropout": N_("dropout {value}")}
# Yes/no settings, said as what they mean: (when off, when on).
SWITCH_WORDS = {"augment": (N_("no augmentation"), N_("augmentation")),
                "fine_tune": (N_("frozen backbone"), N_("fine-tuned")),
                "from_scratch": (N_("transfer from ImageNet"), N_("from scratch"))}


def setting_words(name: str, value) -> str:
    """One setting's value in words: ``learning rate 0.002``, ``from scratch``."""
    if name in SWITCH_WORDS:
        return _(SWITCH_WORDS[name][bool(value)])
    return _(SETTING_WORDS[name]).format(value=f"{value:g}" if isinstance(value, float) else value)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults reach 0.85+ validation accuracy on 600 flower photos.

    Measured on ../shared/data/flowers with Lite0 features, seeds 0-3: 0.85-0.875
    (10 epochs without dropout: 0.82-0.86).
    """

    epochs: int = 20
    batch_size: int = 32  # As the tutorial.
    learning_rate: float = 0.002  # Adam; a head on good features takes a brisker rate than fine-tuning.
    validation_split: float = 0.2
    seed: int = 0
    augment: bool = False  # Random flip, rotation and zoom of training images.
    dropout: float = 0.3  # Before the head: 600 photos and 1280 features overfit without it.
    fine_tune: bool = False  # Train the whole backbone too (slow; use a learning rate near 1e-5).
    from_scratch: bool = False  # The same network with random weights, no ImageNet: the comparison that teaches.

    @property
    def uses_cached_features(self) -> bool:
        """Augmented images, a fine-tuned or a new network change the features every epoch; otherwise they never do."""
        return not (self.augment or self.fine_tune or self.from_scratch)

    def check(self) -> None:
        """Raises HubDemoError naming the first setting out of range."""
        rules = [("epochs", 1, 200), ("batch_size", 1, 1024), ("learning_rate", 1e-7, 1.0),
                 ("validation_split", 0.05, 0.5), ("dropout", 0.0, 0.9)]
        for name, low, high in rules:
            value = getattr(self, name)
            if not low <= value <= high:
                raise HubDemoError(_("`{name}` must be between {low} and {high}, not {value}.").format(
                        name=name, low=low, high=high, value=value))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def changes_from(self, other: TrainConfig) -> list[str]:
        """What differs from ``other``, in words: ``["learning rate 0.002 → 0.02"]``."""
        changes = []
        for f in dataclasses.fields(self):
            then, now = getattr(other, f.name), getattr(self, f.name)
            if then != now:
                if f.name in SWITCH_WORDS:
                    changes.append(f"{setting_words(f.name, then)} → {setting_words(f.name, now)}")
                else:
                    changes.append(_(SETTING_WORDS[f.name]).format(
                        value=f"{then:g} → {now:g}" if isinstance(now, float) else f"{then} → {now}"))
        return changes


@dataclass
class RunSnapshot:
    """A consistent copy of a run's progress, safe to read while training goes on."""

    status: str
    message: str
    batches: list[dict]
    epochs: list[dict]
    epoch: int
    total_epochs: int
    step: int
    steps_per_epoch: int
    extracted: tuple[int, int]
    elapsed: float
    training_elapsed: float  # Since the first training step began (extraction excluded).

    @property
    def fraction_done(self) -> float:
        """Of the current phase: extraction, then training (both run 0 → 1)."""
        if self.status == "extracting":
            done, total = self.extracted
            return done / total if total else 0.0
        if self.status in ("queued", "starting") or not self.steps_per_epoch:
            return 0.0
        total = self.total_epochs * self.steps_per_epoch
        return min(1.0, ((self.epoch * self.steps_per_epoch) + self.step) / total)

    @property
    def seconds_left(self) -> float | None:
        """Training time left, from the pace of the steps so far; None until there is a pace to go by."""
        done = self.fraction_done
        if self.status != "training" or done < 0.02 or self.training_elapsed <= 0:
            return None
        return self.training_elapsed * (1 - done) / done

    def progress_text(self) -> str:
        """What the progress bar says; its epoch always agrees with :attr:`fraction_done`."""
        if self.status == "queued":
            return self.message or _("Waiting for a free trainer…")
        if self.status == "starting":
            return _("Getting ready: loading the model…")
        if self.status == "extracting":
            done, total = self.extracted
            return _("Computing features: {done} of {total} photos (once per photo, then cached)").format(
                done=done, total=total)
        if not self.steps_per_epoch:
            return _("Starting training…")
        left = self.seconds_left
        eta = ("" if left is None else _(" · about {seconds:.0f} s left").format(seconds=left) if left >= 1.5
               else _(" · almost done"))
        return _("Epoch {epoch} of {epochs} · step {step} of {steps}").format(
            epoch=min(self.epoch + 1, self.total_epochs), epochs=self.total_epochs,
            step=min(self.step, self.steps_per_epoch), steps=self.steps_per_epoch) + eta


class Run:
    """One training run: the data and settings it used, its live progress, and what came out of it.

    The training thread calls the ``set_*``/``record_*`` methods and never
    Streamlit; the page reads :meth:`snapshot` and calls :meth:`stop`.
    ``status`` goes (queued →) starting → extracting → training → done | stopped | error.
    When it ends, ``evaluation`` and ``seconds`` are set, and ``model`` (a
    ``training.TrainedModel``) until a newer run pushes it out of memory.
    """

    def __init__(self, config: TrainConfig, *, feature_handle: str = "", dataset_name: str = "",
                 dataset_key: str = "", number: int = 1,
                 on_epoch_end: Callable[[dict], None] | None = None):
        self.config = config
        self.feature_handle = feature_handle
        self.dataset_name = dataset_name
        self.dataset_key = dataset_key  # datasets.Dataset.fingerprint: which photos, which labels.
        self.number = number
        self.created = datetime.now()
        self.language = i18n.language()  # Its messages speak the language of whoever started it.
        self.on_epoch_end = on_epoch_end  # Called with each epoch's record, e.g. to print it.
        self.on_finish: Callable[[], None] | None = None  # Called once it is done, stopped or failed.
        self.stop_event = threading.Event()
        self.evaluation = None  # evaluation.Evaluation of the validation photos, once trained.
        self.seconds = 0.0
        self.model = None  # training.TrainedModel while in memory.
        self.export_folder: str | None = None  # Where its model was exported, if it was (export.export_run).
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._status, self._message = "starting", ""
        self._batches: list[dict] = []
        self._epochs: list[dict] = []
        self._epoch = self._step = self._steps_per_epoch = 0
        self._extracted = (0, 0)
        self._started = time.monotonic()
        self._training_started: float | None = None
        self._finished: float | None = None

    @property
    def label(self) -> str:
        """How every result of this run is named: ``flowers · run 2`` (a built-in dataset's name translated)."""
        return _("{dataset} · run {number}").format(dataset=_(self.dataset_name), number=self.number)

    def describe(self, feature_name: str = "") -> str:
        """The settings it used, in one line: ``20 epochs · batch size 32 · learning rate 0.002 · …``."""
        c = self.config
        extras = [setting_words(name, True) for name in SWITCH_WORDS if getattr(c, name)]
        return (_("{epochs} epochs · batch size {batch_size} · learning rate {learning_rate:g} · dropout "
                  "{dropout:g} · validation share {validation_split:.0%} · seed {seed}").format(**c.as_dict())
                + "".join(f" · {x}" for x in extras) + f" · {feature_name or self.feature_handle}")

    def changes_since(self, dataset, config: TrainConfig, feature_handle: str, feature_name: str = "") -> list[str]:
        """What is different now from what this run used, in words (empty when it still describes the page)."""
        changed = []
        if dataset.fingerprint != self.dataset_key:
            changed.append(_("the dataset (now {name}, {photos:,} photos)").format(
                name=_(dataset.name), photos=len(dataset)))
        if feature_handle != self.feature_handle:
            changed.append(_("the feature extractor (now {name})").format(name=feature_name or feature_handle))
        return changed + config.changes_from(self.config)  # "learning rate 0.002 → 0.02": then → now.

    def summary(self, feature_name: str = "") -> dict:
        """One row of the runs table: what the run used and what came out of it.

        Its validation accuracy is the evaluation's once there is one; while it
        trains, the last epoch's, so the table moves with the curves.
        """
        snap = self.snapshot()
        c = self.config
        accuracy = (self.evaluation.accuracy if self.evaluation is not None
                    else snap.epochs[-1].get("val_accuracy") if snap.epochs else None)
        # In view first, before the table scrolls sideways: what a comparison of runs reads across (the data,
        # the model, the accuracy, the learning rate) and how far each run has got.
        return {_("Run"): self.number, _("Dataset"): _(self.dataset_name),
                _("Feature extractor"): feature_name or self.feature_handle, _("Validation accuracy"): accuracy,
                _("Learning rate"): c.learning_rate,
                _("Epochs"): _("{done} of {epochs}").format(done=len(snap.epochs), epochs=c.epochs),
                _("Status"): status_words(snap.status), _("Batch size"): c.batch_size, _("Dropout"): c.dropout,
                _("Augmentation"): c.augment, _("Fine-tuning"): c.fine_tune, _("Seed"): c.seed,
                _("Seconds"): round(self.seconds or snap.elapsed, 1), _("Model in memory"): self.model is not None}

    def matches(self, dataset_key: str, config: TrainConfig, feature_handle: str) -> bool:
        """True when this run used exactly this data, these settings and this model."""
        return (self.dataset_key, self.config, self.feature_handle) == (dataset_key, config, feature_handle)

    def stop(self) -> None:
        """Stop after the current batch; a run still waiting in the queue is cancelled at once."""
        self.stop_event.set()
        with self._lock:
            if self._status == "queued":
                self._status, self._message = "stopped", _("Cancelled while waiting for a trainer: nothing was trained.")
                self._finished = time.monotonic()

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def running(self) -> bool:
        return self.status in ("queued", "starting", "extracting", "training")

    def set_status(self, status: str, message: str = "") -> None:
        with self._lock:
            self._status, self._message = status, message
            if status == "training" and self._training_started is None:
                self._training_started = time.monotonic()
            if status in FINISHED:
                self._finished = time.monotonic()
        if status in FINISHED and self.on_finish:
            self.on_finish()

    def set_extracted(self, done: int, total: int) -> None:
        with self._lock:
            self._extracted = (done, total)

    def begin_epoch(self, epoch: int, steps_per_epoch: int) -> None:
        with self._lock:
            self._epoch, self._step, self._steps_per_epoch = epoch, 0, steps_per_epoch

    def record_batch(self, step: int, loss: float, accuracy: float) -> None:
        with self._lock:
            self._step = step + 1
            self._batches.append({"step": len(self._batches) + 1, "epoch": self._epoch + 1,
                                  "loss": loss, "accuracy": accuracy})

    def record_epoch(self, logs: dict) -> None:
        record = {"epoch": self._epoch + 1, "step": len(self._batches), **{k: float(v) for k, v in logs.items()}}
        with self._lock:
            self._epochs.append(record)
        if self.on_epoch_end:
            self.on_epoch_end(record)

    def as_record(self) -> dict:
        """What a run leaves behind (so far), as plain values: to keep it on disk (its model is not in it)."""
        snap = self.snapshot()
        return {"number": self.number, "config": self.config.as_dict(), "feature_handle": self.feature_handle,
                "dataset_name": self.dataset_name, "dataset_key": self.dataset_key,
                "created": self.created.isoformat(timespec="seconds"), "language": self.language,
                "status": snap.status, "message": snap.message, "batches": snap.batches, "epochs": snap.epochs,
                "epoch": snap.epoch, "step": snap.step, "steps_per_epoch": snap.steps_per_epoch,
                "extracted": list(snap.extracted), "elapsed": snap.elapsed,
                "training_elapsed": snap.training_elapsed, "seconds": self.seconds,
                "export_folder": self.export_folder,
                "evaluation": None if self.evaluation is None else self.evaluation.as_record()}

    @classmethod
    def from_record(cls, record: dict) -> Run:
        """A run :meth:`as_record` kept: its settings, curves and evaluation, finished, without a model.

        A run kept while it was still training never finished: the app stopped under it. It comes
        back failed, saying so, rather than missing without a word.

        Raises:
            KeyError, TypeError, ValueError: a record this version cannot read.
        """
        from hubdemo.evaluation import Evaluation
        if record["status"] not in STATUS_WORDS:
            raise ValueError(f"not a run's status: {record['status']!r}")
        run = cls(TrainConfig(**record["config"]), feature_handle=str(record["feature_handle"]),
                  dataset_name=str(record["dataset_name"]), dataset_key=str(record["dataset_key"]),
                  number=int(record["number"]))
        run.created = datetime.fromisoformat(record["created"])
        run.language = str(record["language"])
        run.seconds = float(record["seconds"])
        run.evaluation = Evaluation.from_record(record["evaluation"]) if record["evaluation"] else None
        run.export_folder = str(record["export_folder"]) if record.get("export_folder") else None
        run._status, run._message = record["status"], str(record["message"])
        if record["status"] not in FINISHED:
            with i18n.speaking(run.language):
                run._status, run._message = "error", _(
                    "The app stopped before this run finished (it was restarted, or it crashed), so this run "
                    "has no results. Press Train to run it again.")
        run._batches = [dict(b) for b in record["batches"]]
        run._epochs = [dict(e) for e in record["epochs"]]
        run._epoch, run._step = int(record["epoch"]), int(record["step"])
        run._steps_per_epoch = int(record["steps_per_epoch"])
        run._extracted = tuple(int(n) for n in record["extracted"])
        run._finished = time.monotonic()
        run._started = run._finished - float(record["elapsed"])
        training = float(record["training_elapsed"])
        run._training_started = run._finished - training if training else None
        return run

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            end = self._finished or time.monotonic()
            training = end - self._training_started if self._training_started else 0.0
            return RunSnapshot(self._status, self._message, list(self._batches), list(self._epochs),
                               self._epoch, self.config.epochs, self._step, self._steps_per_epoch,
                               self._extracted, end - self._started, training)


def _read_model(file: Path, run: Run, rebuild: Callable):
    """``rebuild(run, class_names, weights)`` from a file :meth:`RunBook.save` wrote; None when there is none, or
    it cannot be read or no longer fits (numpy's and TensorFlow's many errors: the run stays without a model)."""
    if not file.exists():
        return None
    try:
        with np.load(file, allow_pickle=False) as kept:
            names = [str(name) for name in kept["class_names"]]
            weights = [kept[f"w{i}"] for i in range(len(kept.files) - 1)]
        return rebuild(run, names, weights)
    except Exception:  # noqa: BLE001
        return None


FINISHED = ("done", "stopped", "error")
STATUS_WORDS = {"queued": N_("queued"), "starting": N_("starting"), "extracting": N_("computing features"),
                "training": N_("training"), "done": N_("done"), "stopped": N_("stopped"), "error": N_("failed")}


def status_words(status: str) -> str:
    """A run's status as the reader says it: ``training``, ``done``…"""
    return _(STATUS_WORDS.get(status, status))


def titles(runs: list[Run], feature_name: Callable[[str], str] = str) -> dict[int, str]:
    """Each run, by number, as a list of runs names it: what tells it apart and, once evaluated, its accuracy:
    ``flowers · run 2 (learning rate 0.02) · 71.7%``, to find "the one with 0.02" without opening each."""
    names = compare_names(runs, feature_name)
    return {run.number: names[run.label] + (f" · {run.evaluation.accuracy:.1%}" if run.evaluation is not None else "")
            for run in runs}


def compare_names(runs: list[Run], feature_name: Callable[[str], str] = str) -> dict[str, str]:
    """Each run's label with what tells it apart from the others: ``flowers · run 2 (learning rate 0.02)``.

    The feature extractor counts too, named by ``feature_name(handle)``: ``flowers · run 3 (EfficientNet-Lite2)``.
    """
    differing = [f.name for f in dataclasses.fields(TrainConfig)
                 if len({getattr(run.config, f.name) for run in runs}) > 1]
    other_models = len({run.feature_handle for run in runs}) > 1
    names = {}
    for run in runs:
        settings = [feature_name(run.feature_handle)] if other_models else []
        settings += [setting_words(name, getattr(run.config, name)) for name in differing]
        names[run.label] = f"{run.label} ({', '.join(settings)})" if settings else run.label
    return names


MODEL_SUFFIX = ".weights.npz"


def model_file(runs_file: Path, number: int) -> Path:
    """Where :meth:`RunBook.save` keeps run ``number``'s learned weights: beside the runs' records."""
    return runs_file.with_name(f"run-{number}{MODEL_SUFFIX}")


class RunBook:
    """A session's runs, numbered from 1. Every run keeps its record; the newest ``keep_models`` keep their model.

    In memory, a model costs about 8 MB even when it is only a new last layer on the shared frozen
    network (its traced functions), and a fine-tuned one holds its own copy of the network too: so
    only the newest few, plus one brought back (:meth:`bring_back`). On disk, a last layer's weights
    are a few kilobytes: every such run keeps them, so its model can be brought back in a moment; a
    whole network's are about 15 MB: the newest ``keep_networks`` keep theirs.
    """

    def __init__(self, keep_models: int = 3, file: Path | None = None, keep_networks: int = 3):
        self.keep_models = keep_models
        self.keep_networks = keep_networks  # Whole networks whose weights stay on disk (about 15 MB each).
        self.runs: list[Run] = []
        self.file = file  # Where it keeps itself (:meth:`save`), if anywhere: each run that ends is written there.
        self._lock = threading.Lock()
        self._saving = threading.Lock()  # The page's thread and a training thread may save at once.
        self._saved: tuple = ()  # :meth:`_seen` as the last save wrote it.
        self._written: dict[int, str] = {}  # Run number → the uid of the model whose weights its file holds.
        self._brought_back: Run | None = None  # An older run whose model :meth:`bring_back` made again.

    def new(self, config: TrainConfig, *, feature_handle: str, dataset_name: str, dataset_key: str) -> Run:
        """Number and keep a new run; older runs beyond the newest ``keep_models - 1`` let go of their model."""
        with self._lock:
            for old in self.runs[:max(len(self.runs) - (self.keep_models - 1), 0)]:
                old.model = None
            run = Run(config, feature_handle=feature_handle, dataset_name=dataset_name,
                      dataset_key=dataset_key, number=max((r.number for r in self.runs), default=0) + 1)
            run.on_finish = self._run_finished
            self.runs.append(run)
            return run

    def _run_finished(self) -> None:
        """A run ended (on its training thread): keep it at once, not when its page next runs, which may be never
        (the tab was closed, then the app stopped). Not into a folder that is gone (its desk was let go, files
        and all). A save that fails costs only the save, never the run."""
        if self.file is not None and self.file.parent.is_dir():
            try:
                self.save(self.file)
            except Exception:  # noqa: BLE001 - on the training thread: the run's own end must still happen.
                pass

    @property
    def latest(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def _seen(self) -> tuple:
        """What :meth:`save` writes, in brief: each run's number, status, export and whether it has a model."""
        return tuple((run.number, run.status, run.export_folder, run.model is not None) for run in self.runs)

    def save(self, path: Path) -> bool:
        """Keep the runs in ``path`` (JSON) and their models' weights beside it, if they changed.

        So that the runs outlive the app (a crash, a restart): their settings, curves and evaluations
        come back (a run still training when the app stopped comes back saying it did not finish), and
        so do the models of the runs that had one (the newest few), from ``run-N.weights.npz`` files.
        A new last layer's weights are a few kilobytes: they stay after their run let go of its model
        (:meth:`bring_back`). A whole network's (fine-tuned, or from scratch) are about 15 MB: those of the
        newest ``keep_networks`` such runs stay, older ones go with their model. A disk that cannot take it
        costs only that. Returns whether it wrote.
        """
        with self._saving:
            seen = self._seen()
            if seen == self._saved:
                return False
            runs = list(self.runs)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                paths.write_atomically(path, lambda f: f.write(
                        json.dumps([run.as_record() for run in runs], ensure_ascii=False).encode("utf-8")))
            except OSError:
                return False
            self._save_models(path, [run for run in runs if not run.running])
            self._saved = seen
            return True

    def _save_models(self, path: Path, finished: list[Run]) -> None:
        """Each finished run's model as its learned weights and class names; files of runs without one go.

        A file is written once per model (``model.uid``): never taken as the file of a later run that
        happens to get the same number.
        """
        with_models = {run.number: run.model for run in finished if run.model is not None}
        for number, model in with_models.items():
            if self._written.get(number) == model.uid:
                continue
            arrays = {f"w{i}": w for i, w in enumerate(model.learned_weights())}
            arrays["class_names"] = np.array(model.labels, dtype=str)
            with contextlib.suppress(OSError):
                paths.write_atomically(model_file(path, number), lambda f: np.savez(f, **arrays))
                self._written[number] = model.uid
        networks = [run for run in finished if not run.config.uses_cached_features][-self.keep_networks:]
        kept = {model_file(path, run.number) for run in finished
                if run.number in with_models or run.config.uses_cached_features or run in networks}
        for file in path.parent.glob(f"run-*{MODEL_SUFFIX}"):
            if file not in kept:
                file.unlink(missing_ok=True)
        self._written = {number: uid for number, uid in self._written.items() if number in with_models}

    @classmethod
    def load(cls, path: Path, keep_models: int = 3, rebuild: Callable | None = None) -> RunBook:
        """The runs :meth:`save` kept (an empty book when there are none); a record it cannot read is left out.

        With ``rebuild(run, class_names, weights) → model`` (``training.rebuild``, which needs TensorFlow,
        given by the caller), the runs whose weights were kept get their model back; a weights file
        that cannot be read or no longer fits leaves its run without one.
        """
        book = cls(keep_models, file=path)
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return book
        for record in records if isinstance(records, list) else []:
            with contextlib.suppress(AttributeError, KeyError, TypeError, ValueError):
                book.runs.append(Run.from_record(record))
        book.runs.sort(key=lambda run: run.number)
        for run in book.runs[-keep_models:] if rebuild else ():  # The older ones can be brought back.
            run.model = _read_model(model_file(path, run.number), run, rebuild)
            if run.model is not None:
                book._written[run.number] = run.model.uid
        book._saved = book._seen()
        return book

    def can_bring_back(self, run: Run) -> bool:
        """True when ``run`` has no model in memory but its weights are on disk (:meth:`save` kept them)."""
        return (run.model is None and not run.running and self.file is not None
                and model_file(self.file, run.number).exists())

    def bring_back(self, run: Run, rebuild: Callable) -> bool:
        """Make ``run``'s model again from its kept weights (``rebuild`` as for :meth:`load`); whether it could.

        It takes the place of the model brought back before (whose weights stay on disk), so memory stays bounded.
        """
        if not self.can_bring_back(run):
            return run.model is not None
        model = _read_model(model_file(self.file, run.number), run, rebuild)
        if model is None:
            return False
        with self._lock:
            before = self._brought_back
            if before is not None and before is not run and before not in self.runs[-self.keep_models:]:
                before.model = None
            run.model, self._brought_back = model, run
            self._written[run.number] = model.uid
        return True

    @property
    def running(self) -> Run | None:
        return next((run for run in self.runs if run.running), None)

    def get(self, number: int) -> Run | None:
        return next((run for run in self.runs if run.number == number), None)

    def with_models(self) -> list[Run]:
        """Finished runs whose model is still in memory, newest first."""
        return [run for run in reversed(self.runs) if run.model is not None and not run.running]
