"""Open an export again (a folder, or the .zip the app made, from this computer or another) as a classifier.

Every check runs before the model is offered, and each failure is one
sentence: no SavedModel, no or damaged ``labels.txt``, labels that disagree
with ``metadata.json``, a model whose outputs do not match its labels, or an
archive that tries to write outside its folder (refused by
:mod:`hubdemo.archives` before anything is written). Uploaded archives are
extracted inside the workspace, once per content; a broken one is removed
again, and only the newest few are kept.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from hubdemo import archives, bundled, model_safety, models, paths
from hubdemo.errors import HubDemoError
from hubdemo.export import LABELS_FILE, METADATA_FILE
from hubdemo.i18n import _

KEEP_EXTRACTED = 8  # Uploaded exports kept in the workspace; older ones are deleted.
SAVED_MODEL_FILE = "saved_model.pb"


@dataclass
class SavedExport:
    """An export opened from disk: where it is, what it knows, and the classifier that runs it."""

    folder: Path
    class_names: tuple[str, ...]
    image_size: int
    classifier: models.TransferClassifier
    metadata: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """``flowers · run 2 (saved 27 Nov 13:40)``, or the folder's name for an export without metadata."""
        name = self.metadata.get("run") or self.metadata.get("dataset") or self.folder.name
        created = self.metadata.get("created")
        try:
            when = datetime.fromisoformat(created).astimezone().strftime("%d %b %H:%M") if created else ""
        except (TypeError, ValueError):
            when = ""
        return _("{name} (saved {when})").format(
            name=name, when=when) if when else _("{name} (saved)").format(name=name)

    @property
    def feature_handle(self) -> str:
        return str(self.metadata.get("hub_handle") or "")


def is_export(path: str | Path) -> bool:
    """True for a folder holding a SavedModel and ``labels.txt``: what ``--model`` treats as your model."""
    folder = Path(path).expanduser()
    return (folder / SAVED_MODEL_FILE).is_file() and (folder / LABELS_FILE).is_file()


def open_folder(folder: str | Path) -> SavedExport:
    """Check and load an export folder.

    Raises:
        HubDemoError: the folder is missing or not an export, its labels are
            missing, damaged or disagree with its metadata, or the model's
            outputs do not match its labels.
    """
    folder = Path(str(folder).strip()).expanduser()
    if not folder.is_dir():
        raise HubDemoError(_("No folder at '{folder}'. Type the path of an export folder (it holds "
                             "{saved_model_file} and {labels_file}), or upload its .zip.").format(
                                     folder=folder, saved_model_file=SAVED_MODEL_FILE, labels_file=LABELS_FILE))
    if not (folder / SAVED_MODEL_FILE).is_file():
        raise HubDemoError(_("'{folder}' is not an exported model: there is no {saved_model_file} in it. "
                             "Choose the folder the Train page or `python -m hubdemo train` wrote.").format(
                                     folder=folder, saved_model_file=SAVED_MODEL_FILE))
    class_names = _read_labels(folder)
    metadata = _read_metadata(folder)
    if metadata.get("class_names") not in (None, list(class_names)):
        raise HubDemoError(_("{labels_file} ({class_names}) and {metadata_file} "
                             "({map}) disagree about the classes, so "
                             "the export's outputs cannot be named safely. Export the model again.").format(
                                 labels_file=LABELS_FILE, class_names=', '.join(class_names),
                                 metadata_file=METADATA_FILE, map=', '.join(map(str, metadata['class_names']))))
    from hubdemo.tf import tf
    try:
        restored = tf.saved_model.load(str(folder))
    except Exception as err:  # TF raises many types for a damaged or foreign SavedModel.
        raise HubDemoError(_("'{name}' could not be loaded as a SavedModel ({error}). "
                             "Its files may be incomplete: export or download it again.").format(
                                     name=folder.name, error=err.__class__.__name__)) from err
    size = _image_size(restored, metadata)
    outputs = _probe(restored, size)
    if outputs.ndim != 2 or outputs.shape[1] != len(class_names):
        raise HubDemoError(_("The model gives {outputs} outputs per photo, "
                             "but {labels_file} names {n_class_names} classes, so its answers cannot be "
                             "named. Use the labels.txt that was exported with this model.").format(
                                 outputs=outputs.shape[-1] if outputs.ndim else 0, labels_file=LABELS_FILE,
                                 n_class_names=len(class_names)))
    # Exports from this app end in a softmax; a foreign model may give raw scores.
    logits = bool((outputs < 0).any() or not np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3))
    classifier = models.TransferClassifier(restored, class_names, size, logits=logits)
    classifier.cam_network, classifier.cam_weights = _cam(restored, metadata, len(class_names))
    return SavedExport(folder, class_names, size, classifier, metadata)


def _cam(restored, metadata: dict, num_classes: int) -> tuple[str, tuple[np.ndarray, np.ndarray] | None]:
    """For Grad-CAM, when the export is a head on a bundled network's frozen features: that network's name and
    the last layer's ``(kernel, bias)``; else ``("", None)``."""
    settings = metadata.get("settings") or {}
    network = bundled.features_network(str(metadata.get("hub_handle") or ""))
    if not network or settings.get("fine_tune", True) or settings.get("from_scratch", False):
        return "", None
    by_name = {v.name: v for v in restored.variables}
    kernel, bias = by_name.get("classifier/kernel:0"), by_name.get("classifier/bias:0")
    if kernel is None or bias is None or tuple(bias.shape) != (num_classes,):
        return "", None
    return network, (kernel.numpy().astype(np.float32), bias.numpy().astype(np.float32))


def open_zip(data: bytes, name: str = "export.zip", *, dest: Path | None = None,
             max_bytes: int = archives.MAX_TOTAL_BYTES) -> SavedExport:
    """Check, extract (once per content) and open an uploaded export .zip.

    Into ``dest`` (a session's folder, see :mod:`hubdemo.workspace`), else the
    shared workspace. An archive comes from anyone, so its graph is checked
    (:mod:`hubdemo.model_safety`) before TensorFlow loads it.

    Raises:
        HubDemoError: the archive is damaged or hostile, holds no export, a
            model that could touch files or run code, or the export inside
            fails :func:`open_folder`'s checks. Nothing of it is kept then.
    """
    target = dest or extracted_dir() / archives.content_folder_name(data)
    fresh = not target.exists()
    archives.extract_zip(io.BytesIO(data), target, max_total_bytes=max_bytes)
    try:
        folder = _find_export(target, name)
        model_safety.check(folder, name)
        export = open_folder(folder)
    except HubDemoError:
        if fresh:
            shutil.rmtree(target, ignore_errors=True)
        raise
    os.utime(target)  # Newest first when old extractions are cleaned.
    _prune(target.parent, KEEP_EXTRACTED)
    return export


def extracted_dir() -> Path:
    return paths.workspace_dir() / "models"


def _find_export(root: Path, name: str) -> Path:
    """The folder inside an extracted archive that holds the SavedModel: the top, or one level down."""
    candidates = [root] + sorted(p for p in root.iterdir() if p.is_dir() and not archives.is_junk(p.name))
    for folder in candidates:
        if (folder / SAVED_MODEL_FILE).is_file():
            return folder
    raise HubDemoError(_("{name} holds no exported model (no {saved_model_file} at its top or in its one "
                         "folder). Upload the .zip from the Train page's \"Download the whole export\".").format(
                                 name=name, saved_model_file=SAVED_MODEL_FILE))


def _read_labels(folder: Path) -> tuple[str, ...]:
    path = folder / LABELS_FILE
    if not path.is_file():
        raise HubDemoError(_("'{name}' has no {labels_file}, so its outputs cannot be named. Put the "
                             "{labels_file} that was exported with the model beside {saved_model_file}.").format(
                                     name=folder.name, labels_file=LABELS_FILE, saved_model_file=SAVED_MODEL_FILE))
    try:
        names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as err:
        raise HubDemoError(_("{labels_file} in '{name}' cannot be read as text ({err}).").format(
                labels_file=LABELS_FILE, name=folder.name, err=err)) from err
    if len(names) < 2:
        raise HubDemoError(_("{labels_file} in '{name}' names {n_names} class(es); a classifier has "
                             "at least two, one per line.").format(
                                     labels_file=LABELS_FILE, name=folder.name, n_names=len(names)))
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise HubDemoError(_("{labels_file} in '{name}' names {twice} more than once.").format(
                labels_file=LABELS_FILE, name=folder.name, twice=', '.join(twice)))
    return names


def _read_metadata(folder: Path) -> dict:
    """``metadata.json`` as a dict; {} for an export without one (made before it existed)."""
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise HubDemoError(_("{metadata_file} in '{name}' is damaged ({err}). Export the model again.").format(
                metadata_file=METADATA_FILE, name=folder.name, err=err)) \
            from err
    if not isinstance(metadata, dict):
        raise HubDemoError(_("{metadata_file} in '{name}' is not a JSON object. Export the model again.").format(
                metadata_file=METADATA_FILE, name=folder.name))
    return metadata


def _image_size(restored, metadata: dict) -> int:
    size = metadata.get("image_size")
    if isinstance(size, int) and 16 <= size <= 2048:
        return size
    return models.input_size(restored)


def _probe(restored, size: int) -> np.ndarray:
    """The model's output for one grey image; a model that cannot take images is refused here."""
    grey = np.full((1, size, size, 3), 0.5, np.float32)
    try:
        return np.asarray(restored(grey, training=False))
    except Exception as err:  # A foreign signature, or a model that does not take images.
        raise HubDemoError(_("The model does not take {size}×{size} colour images as an export of this app "
                             "does ({error}).").format(size=size, error=err.__class__.__name__)) from err


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently used subfolders."""
    subfolders = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    for old in subfolders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
