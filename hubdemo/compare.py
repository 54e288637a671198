"""Which model should I use? The same head trained on several feature extractors, measured side by side.

Every model gets the same photos, split and settings, so the only difference
is the network underneath: how right it is on the validation photos, how long
a photo takes, how big its export is, how many parameters it has. Features
are cached per model and photo (:mod:`hubdemo.features`), so a second
comparison on the same photos trains in seconds. Shared by the Train page and
``python -m hubdemo compare``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hubdemo import datasets, models, paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _
from hubdemo.runs import Run, RunBook, TrainConfig

MAX_MODELS = 4
TIMED_PHOTOS = 32  # Validation photos the whole model is timed on, after one warm-up pass.


@dataclass(frozen=True)
class Entry:
    """One model's row of a comparison, and the run that produced it (its curves, its model)."""

    model: str  # The handle as asked for: a catalogue name or a URL/folder.
    run: Run
    val_accuracy: float
    ms_per_image: float  # The whole trained model (network and head), one photo of a batch.
    export_mb: float  # Its SavedModel, as an export writes it.
    parameters: int

    def as_dict(self) -> dict:
        return {"model": self.model, "val_accuracy": self.val_accuracy, "ms_per_image": round(self.ms_per_image, 2),
                "export_mb": round(self.export_mb, 1), "parameters": self.parameters}


def compare(dataset: datasets.Dataset, model_names: list[str], config: TrainConfig, *,
            book: RunBook | None = None, extractor_for: Callable | None = None,
            progress: Callable[[str, int, int], None] | None = None, train: Callable | None = None) -> list[Entry]:
    """Train a head on each feature extractor with the same split and settings; measure each.

    Args:
        model_names: two to four feature-vector models (catalogue names or handles).
        book: the session's runs, which the comparison's runs join (numbered and kept like any run).
        extractor_for: ``handle -> FeatureExtractor``, to share loaded models and their caches
            (default: a new one each).
        progress: ``progress(model, done, total)`` before each model.
        train: ``train(dataset, run, extractor) -> TrainedModel | None``: here by default
            (:func:`hubdemo.training.train`); a classroom passes one that queues the run for a worker
            process and waits, so a comparison costs the server no more than any run.

    Raises:
        HubDemoError: fewer than two or more than four models, a model twice, settings that need the
            whole network (augmentation, fine-tuning, from scratch), or a model that cannot load.
    """
    from hubdemo import features, training
    handles = [models.resolve_handle(name) for name in model_names]
    if not 2 <= len(handles) <= MAX_MODELS or len(set(handles)) != len(handles):
        raise HubDemoError(_("Compare two to {most} different models, not {given}.").format(
            most=MAX_MODELS, given=", ".join(model_names) or _("none")))
    if not config.uses_cached_features:
        raise HubDemoError(_("A comparison trains a new last layer on each model's features: turn off data "
                             "augmentation, fine-tuning and training from scratch."))
    book = book or RunBook(keep_models=len(handles))
    extractor_for = extractor_for or features.FeatureExtractor
    train = train or training.train
    entries = []
    for done, (name, handle) in enumerate(zip(model_names, handles)):
        if progress:
            progress(models.short_name(handle), done, len(handles))
        extractor = extractor_for(handle)
        run = book.new(config, feature_handle=handle, dataset_name=dataset.name, dataset_key=dataset.fingerprint)
        trained = train(dataset, run, extractor)
        if trained is None:
            raise HubDemoError(_("The comparison was stopped."))
        entries.append(Entry(name, run, run.evaluation.accuracy, _ms_per_image(trained, run.evaluation.files),
                             _export_mb(trained), int(trained.model.count_params())))
    return entries


def _ms_per_image(trained, files) -> float:
    """Milliseconds per photo for the whole model on a batch of validation photos (decoding excluded)."""
    from hubdemo import pipeline
    batch = next(iter(pipeline.image_batches(list(files)[:TIMED_PHOTOS], trained.input_size)))[0].numpy()
    trained.probabilities(batch)  # Warm-up: the first call traces the graph.
    started = time.perf_counter()
    trained.probabilities(batch)
    return (time.perf_counter() - started) * 1000 / len(batch)


def _export_mb(trained) -> float:
    """The size of the model's SavedModel, written to a scratch folder in the cache and removed."""
    from hubdemo import export
    paths.cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths.cache_dir(), prefix="compare-") as scratch:
        folder = export.save(trained.model, trained.labels, Path(scratch) / "model")
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def names(entries: list[Entry]) -> dict[str, str]:
    """Each entry's run label → the model's short name, for charts and tables."""
    return {entry.run.label: models.short_name(entry.run.feature_handle) for entry in entries}


def fastest_and_best(entries: list[Entry]) -> tuple[Entry, Entry]:
    """The quickest model, and the most accurate (the quicker of equals)."""
    return min(entries, key=lambda e: e.ms_per_image), max(entries, key=lambda e: (e.val_accuracy, -e.ms_per_image))

