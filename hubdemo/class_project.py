"""A class project: one dataset the whole class builds together, from their phones.

The teacher names the classes ("pen", "cup", "phone") and gets a short join
code; students join with the code (or its QR code) and add photos to any
class; everyone sees the counts grow; the teacher removes bad photos and
trains on the result in front of the class. The photos live on disk in the
project's folder, one subfolder per class, so the dataset is read like any
other folder. Each photo's file name records which session added it, so a
student can take back their own photos and the teacher can remove anyone's.
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import unicodedata
from pathlib import Path

from hubdemo import datasets
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _, word_list

DATASET_NAME = N_("class project {code}")  # The name of its dataset, and of the runs trained on it.
CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # No 0/O, 1/I/L: easy to read off a projector.
MAX_PHOTO_BYTES = 20 * 1024 * 1024


def split_class_names(text: str) -> list[str]:
    """The classes a teacher typed in one line: separated by commas, as Chinese writes them too
    (，and 、), or by semicolons or new lines; blanks around them dropped."""
    return [name.strip() for name in re.split(r"[,，、;；\n]", text) if name.strip()]


def typed_code(text: str) -> str:
    """A join code as a student typed it, made plain: any case, spaces, or the full-width letters a
    Chinese keyboard gives in full-width mode (ＵＨ５Ｍ)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def owner(session: str) -> str:
    """A session's mark in its photos' file names (letters and digits only, so it splits off cleanly)."""
    return "".join(c for c in session if c.isalnum())[:12]


class ClassProject:
    """The project in ``folder``: its join code, its classes, and their photos."""

    def __init__(self, folder: Path, code: str, class_names: list[str]):
        self.folder, self.code = folder, code
        self._lock = threading.Lock()
        self.class_names = []
        for name in class_names:
            self.add_class(name)
        if len(self.class_names) < 2:
            raise HubDemoError(_("A class project needs at least two classes, e.g. 'pen' and 'cup'."))

    @classmethod
    def create(cls, root: Path, class_names: list[str]) -> ClassProject:
        """A new project under ``root`` with a fresh join code."""
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(4))
        return cls(root / code, code, class_names)

    @classmethod
    def reopen(cls, root: Path) -> ClassProject | None:
        """The project a server left under ``root`` when it stopped, or None: a restart does not end the lesson.

        Its code is its folder's name and its classes are its subfolders (in name order: the order the
        teacher typed them lived in memory); the photos are all there.
        """
        found = [d for d in root.iterdir() if d.is_dir() and len(d.name) == 4 and set(d.name) <= set(CODE_LETTERS)
                 ] if root.is_dir() else []
        if len(found) != 1:  # A new project replaces the old one, so there is one at most.
            return None
        try:
            return cls(found[0], found[0].name, list(datasets.built_classes(found[0])))
        except HubDemoError:
            return None

    def add_class(self, name: str) -> str:
        name = datasets.clean_class_name(name)
        with self._lock:
            (self.folder / name).mkdir(parents=True, exist_ok=True)
            if name not in self.class_names:
                self.class_names.append(name)
        return name

    def add_photo(self, class_name: str, photo_id: str, filename: str, data: bytes, by: str) -> Path:
        """Add one photo to a class, marked as ``by``'s (a session id)."""
        if class_name not in self.class_names:
            raise HubDemoError(_("The class project has no class '{class_name}' (any more): pick one of "
                                 "{class_names}.").format(
                                         class_name=class_name, class_names=word_list(self.class_names, "or")))
        if len(data) > MAX_PHOTO_BYTES:
            raise HubDemoError(_("This photo is {n_data:.0f} MB; the class project takes photos up to "
                                 "{max_photo_bytes:.0f} MB.").format(
                                         n_data=len(data) / 1e6, max_photo_bytes=MAX_PHOTO_BYTES / 1e6))
        return datasets.add_built_photo(self.folder, class_name, f"{owner(by)}_{photo_id}", filename, data)

    def photos(self) -> dict[str, list[Path]]:
        """Each class's photos, oldest first (empty classes too), in the classes' order."""
        found = datasets.built_classes(self.folder)
        return {name: found.get(name, []) for name in self.class_names}

    def counts(self) -> dict[str, int]:
        return {name: len(files) for name, files in self.photos().items()}

    @staticmethod
    def added_by(path: Path) -> str:
        """The :func:`owner` mark of the session that added the photo at ``path``."""
        return path.stem.split("_", 1)[0]

    def remove(self, path: Path) -> None:
        """Remove one photo (the teacher's button, or a student's own photo)."""
        path = Path(path)
        if path.parent.parent != self.folder:
            raise HubDemoError(_("That photo is not part of this class project."))
        path.unlink(missing_ok=True)

    def remove_class(self, name: str) -> None:
        with self._lock:
            if name in self.class_names:
                self.class_names.remove(name)
            shutil.rmtree(self.folder / name, ignore_errors=True)

    def zip(self) -> bytes:
        """The photos as a .zip in the tutorial's layout (``class/photo.jpg``), to keep after the lesson.

        Clearing the workspace deletes them; the zip opens again as an uploaded dataset, a ``--data``
        folder once unpacked, or with the CLI. Names carry no student's mark, only the photo's number.
        """
        return datasets.build_zip(self.folder)

    def dataset(self) -> datasets.Dataset:
        """The photos so far as a dataset to train on (each class needs two)."""
        return datasets.load_built(self.folder, name=f"class project {self.code}")
