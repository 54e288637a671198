"""Labelled image datasets: every source becomes a folder with one subfolder per class, read into a ``Dataset``.

Sources: a folder (the tutorial's layout), an uploaded .zip, classes built in
the browser, TF Flowers downloaded from its official URL, and the built-in
handwritten digits from scikit-learn (works offline).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from hubdemo import archives, images, paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _, ngettext, sentences

MIN_PER_CLASS = 2
# A message names this many classes at most, then says how many more.
SHOWN_NAMES = 5
# Warn when the largest class has this many times the images of the smallest.
IMBALANCE_RATIO = 3.0

FLOWERS_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
FLOWERS_CREDIT = N_("TF Flowers: 3,670 photos of 5 kinds of flowers from Flickr, CC-BY 2.0; the "
                  "photographers are credited in the archive's LICENSE.txt.")
DIGITS_CREDIT = N_("Handwritten digits: 1,797 scans (8×8 pixels) from the UCI *Optical Recognition of "
                 "Handwritten Digits* set (E. Alpaydin, C. Kaynak, 1998, CC BY 4.0), shipped with "
                 "scikit-learn. Shown upscaled, dark ink on light paper.")


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str


@dataclass(frozen=True)
class Dataset:
    """A labelled image dataset on disk: ``files[i]`` belongs to ``class_names[labels[i]]``."""

    name: str
    root: Path
    class_names: tuple[str, ...]
    files: tuple[Path, ...]
    labels: tuple[int, ...]
    skipped: tuple[Skipped, ...] = ()
    credit: str = ""
    warnings: tuple[str, ...] = field(default=())

    @functools.cached_property
    def fingerprint(self) -> str:
        """Which photos under which labels: equal fingerprints mean a run's results still describe this data."""
        digest = hashlib.sha1(f"{self.root}|{'|'.join(self.class_names)}".encode())
        for path, label in zip(self.files, self.labels):
            digest.update(f"\n{path}|{label}".encode())
        return digest.hexdigest()[:16]

    @functools.cached_property
    def recordings(self) -> tuple[str | None, ...]:
        """Each photo's live-camera recording (:func:`recording`), None for a lone photo; worked out once."""
        return tuple(map(recording, self.files))

    @property
    def counts(self) -> dict[str, int]:
        per_class = np.bincount(np.asarray(self.labels, dtype=int), minlength=len(self.class_names))
        return {name: int(n) for name, n in zip(self.class_names, per_class)}

    def __len__(self) -> int:
        return len(self.files)


# The first bytes of the usual photo files, for files whose name has no image extension.
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*")


@functools.lru_cache(maxsize=1)
def _image_suffixes() -> frozenset[str]:
    Image.init()  # Every format Pillow reads here, HEIC included (``images`` registers it).
    return frozenset(Image.registered_extensions())


def could_be_image(path: Path) -> bool:
    """False for a file that is surely no photo: no image extension, and none of the usual photos' first bytes.

    Pillow tries a dozen formats on every file it is given, about 0.25 ms each: a folder typed by mistake
    (a home folder, ``/usr``: 125,000 files) took 30 s to say it was no dataset, and this takes 2 s. A photo
    renamed without its extension is still found by its first bytes.
    """
    if path.suffix.lower() in _image_suffixes():
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return True  # Pillow says why it cannot be read.
    return head.startswith(IMAGE_MAGIC) or head[4:8] == b"ftyp"  # ftyp: HEIC and AVIF.


def _is_image_file(path: Path) -> str | None:
    """None for a file Pillow can identify as an image, else why it is skipped."""
    try:
        if path.stat().st_size == 0:
            return _("empty file")
        with Image.open(path) as image:
            width, height = image.size  # The header is read; the pixels are not.
    except UnidentifiedImageError:
        return _("not an image")
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours: not even the header is trusted.
        return _("too large to open safely")
    except (OSError, SyntaxError, ValueError) as err:
        return _("unreadable ({error})").format(error=err.__class__.__name__)
    if width * height > images.MAX_PIXELS:
        return _("too large ({megapixels:.0f} megapixels)").format(megapixels=width * height / 1e6)
    return None


def _data_root(folder: Path) -> Path:
    """Step into a single top folder ('flowers/daisy/...') whose own subfolders are the classes."""
    while True:
        entries = [p for p in folder.iterdir() if not archives.is_junk(p.name)]
        if len(entries) == 1 and entries[0].is_dir() and _subfolders(entries[0]):
            folder = entries[0]
        else:
            return folder


def _subfolders(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and not archives.is_junk(p.name)),
                  key=lambda p: p.name)


def load_folder(folder: str | Path, *, name: str | None = None, credit: str = "") -> Dataset:
    """Read a folder with one subfolder per class (images may sit deeper inside a class folder).

    Raises:
        HubDemoError: no such folder, no class folders, fewer than two classes,
            or a class with fewer than two readable images.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise HubDemoError(_("No folder at '{folder}'. Type the path of a folder that has one "
                             "subfolder per class, e.g. flowers/daisy/*.jpg, flowers/roses/*.jpg.").format(
                                     folder=folder))
    root = _data_root(folder)
    class_dirs = _subfolders(root)
    files, labels, skipped = [], [], []
    for path in sorted(p for p in root.iterdir() if p.is_file() and not archives.is_junk(p.name)):
        skipped.append(Skipped(str(path.relative_to(root)), _("not inside a class folder")))
    not_image = _("not an image")
    for label, class_dir in enumerate(class_dirs):
        for path in sorted(class_dir.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or archives.is_junk(relative.as_posix()):
                continue
            reason = _is_image_file(path) if could_be_image(path) else not_image
            if reason:
                skipped.append(Skipped(relative.as_posix(), reason))
            else:
                files.append(path)
                labels.append(label)
    dataset = Dataset(name or folder.name, root, tuple(p.name for p in class_dirs), tuple(files),
                      tuple(labels), tuple(skipped), credit)
    _check_usable(dataset)
    return _with_warnings(dataset)


def folder_signature(folder: str | Path) -> tuple:
    """Modification times of a folder and its subfolders (or of a .zip): changes when files come or go."""
    root = Path(folder).expanduser()
    if root.is_file():
        return ((str(root), root.stat().st_mtime_ns),)
    if not root.is_dir():
        return ()
    return tuple(sorted((d, os.stat(d).st_mtime_ns) for d, _, _ in os.walk(root)))


def file_stamp(path: str | Path) -> tuple[int, int]:
    """``(modification time, size)`` of a file, (0, 0) if it is gone: changes when the photo is edited in place."""
    try:
        stat = os.stat(path)
    except OSError:
        return 0, 0
    return stat.st_mtime_ns, stat.st_size


def _check_usable(dataset: Dataset) -> None:
    if not dataset.class_names:
        raise HubDemoError(
            _("'{root}' has no class folders. Put each class's images in a subfolder named "
              "after it, e.g. daisy/, roses/.").format(root=dataset.root))
    if not dataset.files and len(dataset.class_names) > 1:  # Likely a folder above the dataset, or the wrong one.
        raise HubDemoError(
            _("None of the {n} subfolders of '{root}' holds a photo. Choose the folder whose subfolders are the "
              "classes, each with its photos, e.g. flowers/daisy/*.jpg, flowers/roses/*.jpg.").format(
                      n=len(dataset.class_names), root=dataset.root))
    _check_counts(dataset.counts)


def _check_counts(counts: dict[str, int]) -> None:
    """At least two classes, each with at least MIN_PER_CLASS images."""
    if len(counts) < 2:
        raise HubDemoError(
            _("The dataset has only one class ('{name}'). A classifier needs at least two classes to tell "
              "apart: add another class.").format(name=next(iter(counts))) if counts else
            _("The dataset has no classes yet. Add at least two."))
    small = [f"{c} ({n})" for c, n in counts.items() if n < MIN_PER_CLASS]
    if small:
        if len(small) > SHOWN_NAMES:
            small = small[:SHOWN_NAMES] + [_("{n} more").format(n=len(small) - SHOWN_NAMES)]
        raise HubDemoError(
            _("Every class needs at least {minimum} images (one to learn from, one to check). "
              "Too few in: {small}.").format(minimum=MIN_PER_CLASS, small=', '.join(small)))


def _with_warnings(dataset: Dataset) -> Dataset:
    counts = dataset.counts
    largest, smallest = max(counts, key=counts.get), min(counts, key=counts.get)
    warnings = []
    if counts[largest] >= IMBALANCE_RATIO * counts[smallest]:
        warnings.append(
            _("The classes are unbalanced: '{largest}' has {most} images and '{smallest}' only {fewest}. The "
              "model will lean towards the larger classes; add images to the small ones if you can.").format(
                largest=largest, most=counts[largest], smallest=smallest, fewest=counts[smallest]))
    checked = dataclasses.replace(dataset, warnings=tuple(warnings))
    checked.fingerprint, checked.recordings  # Worked out now, they travel with the dataset (a page's cached copy).
    return checked


def load_zip(data: bytes, *, name: str = "upload.zip", dest: Path | None = None,
             max_bytes: int = archives.MAX_TOTAL_BYTES) -> Dataset:
    """Check and extract an uploaded .zip (once per content), then read it.

    Into ``dest`` (a session's folder, see :mod:`hubdemo.workspace`), else the shared workspace.
    """
    dest = dest or paths.workspace_dir() / "uploads" / archives.content_folder_name(data)
    folder = archives.extract_zip(io.BytesIO(data), dest, max_total_bytes=max_bytes)
    return load_folder(folder, name=Path(name).stem)


def load_zip_file(path: str | Path) -> Dataset:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise HubDemoError(_("Cannot read {path}: {reason}.").format(path=path, reason=err.strerror or err)) from err
    return load_zip(data, name=path.name)


def load_source(path: str | Path) -> Dataset:
    """A folder or a .zip file, as the CLI and ``--data`` take them."""
    path = Path(path).expanduser()
    if path.is_file() and zipfile.is_zipfile(path):
        return load_zip_file(path)
    if path.is_file():
        raise HubDemoError(_("{path} is a file but not a .zip archive. Give a folder with one "
                             "subfolder per class, or a .zip of one.").format(path=path))
    return load_folder(path)


# --- Built in the browser -----------------------------------------------------------------

def clean_class_name(name: str) -> str:
    """A class name typed by a user, usable as a folder name: any language, spaces and emoji kept.

    Only what a folder name cannot hold goes: slashes, control characters and
    leading dots (hidden files).
    """
    cleaned = "".join(c for c in name if c not in "/\\" and c.isprintable()).strip().lstrip(".").strip()
    if not cleaned or len(cleaned.encode()) > 200:
        raise HubDemoError(_("'{name}' cannot be a class name: give a short name, e.g. 'cat' or '猫'.").format(
                name=name))
    return cleaned


_PHOTO_ID = re.compile(r"[^A-Za-z0-9_-]")


def add_built_photo(folder: Path, class_name: str, photo_id: str, filename: str, data: bytes) -> Path:
    """Write one photo added in the browser to ``folder/<class>/`` (once per ``photo_id``); returns its path.

    Photos live on disk, in the session's workspace, not in the server's memory.
    """
    suffix = Path(filename).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".jpg"
    class_dir = folder / clean_class_name(class_name)
    class_dir.mkdir(parents=True, exist_ok=True)
    path = class_dir / f"{_PHOTO_ID.sub('', photo_id)[:64] or 'photo'}{suffix}"
    if not path.exists():
        try:
            paths.write_atomically(path, lambda f: f.write(data))
        except OSError as err:
            raise HubDemoError(_("The photo could not be saved in {folder}: {problem}. The photos added before "
                                 "it are kept; free some space and add it again.").format(
                                         folder=folder, problem=paths.write_problem(err) or err.strerror)) from err
    return path


def built_classes(folder: Path) -> dict[str, list[Path]]:
    """The classes built so far in ``folder`` (empty ones too), each with its photos, oldest first.

    Classes in name order, as the tutorial's ``image_dataset_from_directory`` numbers them (and so the
    trained model's outputs): adding photos to a class must not move it on the page.
    """
    if not folder.is_dir():
        return {}
    return {d.name: sorted((p for p in d.iterdir() if p.is_file() and not archives.is_junk(p.name)),
                           key=lambda p: p.stat().st_mtime_ns)
            for d in sorted(folder.iterdir())
            if d.is_dir() and not archives.is_junk(d.name)}


def build_zip(folder: Path) -> bytes:
    """A .zip in the tutorial's layout (``class/photo.jpg``) of the photos built in ``folder``.

    Photos are numbered oldest first; a recorded photo keeps its recording in its name, so the
    dataset uploaded again splits as it did here.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # Photos are compressed already.
        for class_name, photos in built_classes(folder).items():
            for index, path in enumerate(photos):
                recorded = _RECORDING.search(path.stem)  # live-<time>-<n>, without a class project's owner.
                name = f"{index:04d}_{recorded.group(0)}" if recorded else f"{index:04d}"
                archive.write(path, f"{class_name}/{name}{path.suffix}")
    return buffer.getvalue()


def load_built(folder: Path, *, name: str = N_("my dataset")) -> Dataset:
    """The classes built in the browser (written by :func:`add_built_photo`), read like any folder."""
    _check_counts({c: len(p) for c, p in built_classes(folder).items()})
    return load_folder(folder, name=name)


# --- Built-in: handwritten digits ---------------------------------------------------------

DIGITS_VERSION = 1
DIGITS_SIZE = 64


def digits_folder() -> Path:
    """Render scikit-learn's digits once as PNGs in the cache: upscaled bicubic, dark ink on light.

    Bilinear or bicubic upscaling keeps the strokes smooth; nearest-neighbour
    blocks cost the ImageNet features much of their accuracy (0.94 against 0.61).
    """
    folder = paths.cache_dir() / "datasets" / f"digits-v{DIGITS_VERSION}"
    if folder.is_dir():
        return folder
    from sklearn.datasets import load_digits
    digits = load_digits()
    try:
        with paths.atomic_folder(folder) as tmp:
            for index, (pixels, target) in enumerate(zip(digits.images, digits.target)):
                ink = (255 - pixels / 16.0 * 255).clip(0, 255).astype(np.uint8)
                image = Image.fromarray(ink, "L").resize((DIGITS_SIZE, DIGITS_SIZE), Image.BICUBIC)
                (tmp / str(target)).mkdir(exist_ok=True)
                image.save(tmp / str(target) / f"{index:04d}.png")
    except OSError as err:
        raise HubDemoError(_("The built-in digits could not be written to {folder} (about 7 MB, once): {problem}. "
                             "Free some space, or set HUBDEMO_CACHE_DIR to a folder on a disk with room.").format(
                                     folder=folder.parent, problem=paths.write_problem(err) or err.strerror)) from err
    return folder


def load_digits_dataset() -> Dataset:
    return load_folder(digits_folder(), name=N_("handwritten digits"), credit=DIGITS_CREDIT)


# --- Downloaded: TF Flowers ---------------------------------------------------------------

def load_flowers(progress=None, *, url: str | None = None) -> Dataset:
    """The tutorial's TF Flowers, downloaded once into the cache.

    Args:
        progress: optional ``progress(done_bytes, total_bytes)`` callback.
        url: where to fetch the archive (default: ``FLOWERS_URL``, the official one).

    Raises:
        HubDemoError: offline or the download failed; the message names what works offline.
    """
    from hubdemo import downloads
    url = url or FLOWERS_URL
    archive = downloads.download(url, paths.cache_dir() / "downloads" / Path(url).name, progress=progress,
                                 offline_hint=_("Use the built-in handwritten digits, upload a .zip of "
                                                "your photos, or type the path of a folder instead."))
    folder = archives.extract_tar(archive, paths.cache_dir() / "datasets" / "flower_photos")
    return load_folder(folder, name="TF Flowers", credit=FLOWERS_CREDIT)


# --- Splitting ----------------------------------------------------------------------------

MIN_VALIDATION_PHOTOS = 20
MIN_VALIDATION_PER_CLASS = 5


def split_words(dataset: Dataset, chosen: Split) -> str:
    """The split in a sentence: how many photos train, how many check, and what keeps recordings together."""
    words = _("{train} photos train the new layer; {validation} are held back to check it on photos it never "
              "trained on (the validation accuracy).").format(train=len(chosen.train), validation=len(chosen.validation))
    held = set(chosen.validation.tolist())
    sides: dict[str, set] = {}  # Each recording's sides: one, unless it is a class's only recording (cut).
    for index, found in enumerate(dataset.recordings):
        if found:
            sides.setdefault(found, set()).add(index in held)
    recorded = sum(len(side) == 1 for side in sides.values())
    if recorded:
        words = sentences(words, ngettext(
            "{count} recording from the live camera stays whole on one side: its photos are near-copies of each other.",
            "{count} recordings from the live camera each stay whole on one side: their photos are near-copies of "
            "each other.", recorded).format(count=recorded))
    return words


def validation_warnings(dataset: Dataset, chosen: Split) -> list[str]:
    """Why the validation accuracy may mean little: too few photos held back, or near-copies on both sides."""
    held_back = chosen.validation
    per_class = np.bincount(np.asarray(dataset.labels)[held_back], minlength=len(dataset.class_names))
    warnings = []
    if len(held_back) < MIN_VALIDATION_PHOTOS or per_class.min() < MIN_VALIDATION_PER_CLASS:
        warnings.append(_(
            "Only {held_back} photos are held back for validation ({smallest} in the smallest class), so one "
            "photo more or less right moves the accuracy by {step:.0%}. Treat the accuracy as a rough guide; "
            "with at least {per_class} photos per class and {total} in all it starts to mean something. Add "
            "photos, or raise the validation share.").format(
            held_back=len(held_back), smallest=per_class.min(), step=1 / len(held_back),
            per_class=MIN_VALIDATION_PER_CLASS, total=MIN_VALIDATION_PHOTOS))
    sources = [set() for _name in dataset.class_names]  # Each class's recordings; None for its lone photos.
    for found, label in zip(dataset.recordings, dataset.labels):
        sources[label].add(found)
    one_recording = [name for name, found in zip(dataset.class_names, sources) if len(found) == 1 and None not in found]
    if one_recording:
        warnings.append(_(
            "{classes}: one recording from the live camera and nothing else, so its validation photos are "
            "near-copies of its training ones and its accuracy flatters the model. Record it again, from another "
            "side or in another place: each recording then stays whole on one side of the split.").format(
            classes=", ".join(one_recording)))
    return warnings


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # Indices into dataset.files.
    validation: np.ndarray


_RECORDING = re.compile(r"(live-\d+)-\d+$")


def recording(path: Path) -> str | None:
    """The live-camera recording a photo came from (its name ends ``live-<time>-<n>``), None for a lone photo."""
    found = _RECORDING.search(Path(path).stem)
    return found.group(1) if found else None


def _held_back(members: list[int], groups: list, n_val: int) -> set:
    """Which of a class's photos (``members``, shuffled) to hold back: about ``n_val`` of them, whole groups only.

    A group is one recording (or one lone photo). Groups are taken in the shuffled order when they bring the
    count closer to ``n_val``, always leaving one to train on; with no lone photos, the smallest recording
    that fits. Lone photos only: exactly the first ``n_val``, as a plain stratified split.
    """
    by_group: dict = {}
    for index, group in zip(members, groups):
        by_group.setdefault(group, []).append(index)
    held: list = []
    for photos in by_group.values():
        if len(held) + len(photos) / 2 < n_val and len(held) + len(photos) < len(members):
            held += photos
    if not held:
        fits = [photos for photos in by_group.values() if len(photos) < len(members)]
        held = min(fits, key=len) if fits else list(members[:n_val])  # One recording only: cut it.
    return set(held)


def split(dataset: Dataset, validation_fraction: float = 0.2, seed: int = 0) -> Split:
    """A stratified, reproducible train/validation split: every class keeps at least one image on each side.

    Photos recorded together from the live camera, a fifth of a second apart, are near-copies: split
    between the two sides, the validation photos would have twins in training and the accuracy would
    flatter the model. So each recording stays whole on one side (the notebook's split does the same).

    Raises:
        HubDemoError: the fraction is not between 0.05 and 0.5.
    """
    if not 0.05 <= validation_fraction <= 0.5:
        raise HubDemoError(_("The validation share must be between 5% and 50%, not {validation_fraction:.0%}.").format(
                validation_fraction=validation_fraction))
    rng = np.random.default_rng(seed)
    labels = np.asarray(dataset.labels)
    train, validation = [], []
    for label in range(len(dataset.class_names)):
        members = rng.permutation(np.flatnonzero(labels == label)).tolist()
        n_val = min(max(1, round(len(members) * validation_fraction)), len(members) - 1)
        groups = [dataset.recordings[i] for i in members]
        if not any(groups):  # Lone photos only (most datasets): the first n_val.
            validation.extend(members[:n_val])
            train.extend(members[n_val:])
            continue
        held = _held_back(members, [g or i for g, i in zip(groups, members)], n_val)
        validation.extend(i for i in members if i in held)
        train.extend(i for i in members if i not in held)
    return Split(np.sort(np.asarray(train, dtype=int)), np.sort(np.asarray(validation, dtype=int)))
