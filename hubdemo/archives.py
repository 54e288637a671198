"""Safe extraction of uploaded .zip archives and downloaded .tgz archives into the app's workspace.

An archive from a stranger can try to write outside its folder (``../``,
absolute paths, links) or expand to fill the disk (a zip bomb). Every member is
checked before anything is written, sizes are counted while writing (a member's
declared size can lie), and extraction goes to a temporary folder renamed into
place only when complete.
"""

from __future__ import annotations

import hashlib
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from hubdemo import paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

MAX_TOTAL_BYTES = 2 * 1024**3  # 2 GiB uncompressed: ten times TF Flowers.
MAX_FILES = 50_000
# Operating-system clutter, never a photo: ignored silently.
JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", ".directory"}
JUNK_DIRS = {"__MACOSX", ".git", ".ipynb_checkpoints", "@eaDir"}


def content_folder_name(data: bytes) -> str:
    """The folder an archive's bytes are extracted to, named by its content: the same upload again reuses it."""
    return hashlib.sha256(data).hexdigest()[:16]


def is_junk(relative: str | PurePosixPath) -> bool:
    """True for macOS resource forks, Finder/Explorer metadata and hidden files."""
    parts = PurePosixPath(str(relative).replace("\\", "/")).parts
    return any(p in JUNK_DIRS for p in parts[:-1]) or (
        bool(parts) and (parts[-1] in JUNK_NAMES or parts[-1].startswith(".")))


UTF8_FLAG = 0x800  # A zip entry's general-purpose flag: its name is UTF-8.
LEGACY_NAME_ENCODINGS = ("utf-8", "gbk")  # Tried in turn for names without the flag (:func:`zip_names`).


def zip_names(infos: list[zipfile.ZipInfo]) -> list[str]:
    """The members' names as their author typed them.

    A zip entry without the UTF-8 flag is read by Python as cp437, the standard's old default, but
    macOS's Finder writes UTF-8 without setting the flag and a Chinese Windows writes its own code page
    (GBK): a class folder 猫咪 arrived as 'τî½σÆ¬' or '├¿▀Σ'. Such names are decoded again, all with one
    encoding, since one program wrote them all: UTF-8 if every one of them is valid UTF-8, else GBK
    (this app speaks Chinese), else they stay as Python read them.
    """
    legacy = [i for i, info in enumerate(infos) if not info.flag_bits & UTF8_FLAG]
    raw = {i: infos[i].orig_filename.encode("cp437") for i in legacy}  # Before Windows turns "\\" (a GBK byte) to "/".
    names = [info.filename for info in infos]
    if all(name.isascii() for name in raw.values()):
        return names
    for encoding in LEGACY_NAME_ENCODINGS:
        try:
            decoded = {i: name.decode(encoding) for i, name in raw.items()}
        except UnicodeDecodeError:
            continue
        return [decoded.get(i, name) for i, name in enumerate(names)]
    return names


def _safe_relative(name: str) -> PurePosixPath:
    """The member's path, refused if it could land outside the destination."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise HubDemoError(
            _("The archive contains '{name}', a path that points outside its own folder. It was not "
              "extracted; make the archive again from the dataset folder.").format(name=name))
    return path


@dataclass(frozen=True)
class _Member:
    """One archive entry, zip or tar alike."""

    name: str
    size: int  # As declared; not trusted while writing.
    plain_file: bool  # False for links and devices.
    open: Callable[[], BinaryIO]


def extract_zip(source, dest: Path, *, max_total_bytes: int = MAX_TOTAL_BYTES,
                max_files: int = MAX_FILES) -> Path:
    """Extract a .zip (a path or a binary file object) into the new folder ``dest``.

    Returns:
        ``dest``. If it already exists it is returned as is (same archive, same folder).

    Raises:
        HubDemoError: the archive is corrupt, has a member that escapes ``dest``
            or is a link, or holds more than ``max_files`` files or
            ``max_total_bytes`` bytes. Nothing is left in ``dest`` then.
    """
    if dest.exists():
        return dest
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            names = zip_names(infos)
            members = [_Member(name, m.file_size, not stat.S_ISLNK(m.external_attr >> 16), lambda m=m: archive.open(m))
                       for m, name in zip(infos, names) if not m.is_dir()]
            _extract(names, members, dest, max_total_bytes, max_files)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as err:
        raise HubDemoError(_("The file is not a readable .zip archive ({err}). Make the archive again "
                             "and upload it once more.").format(err=err)) from err
    except OSError as err:
        if paths.write_problem(err):
            raise HubDemoError(_("The archive could not be extracted into {parent}: "
                                 "{write_problem}. Free some space and try again.").format(
                                         parent=dest.parent, write_problem=paths.write_problem(err))) from err
        raise HubDemoError(_("The .zip archive is damaged ({err}). Make it again and re-upload.").format(
                err=err)) from err
    except zlib.error as err:  # Corrupt compressed data.
        raise HubDemoError(_("The .zip archive is damaged ({err}). Make it again and re-upload.").format(
                err=err)) from err
    return dest


def zip_expanded_size(source) -> int:
    """The bytes a .zip declares it expands to (checked against what is written while extracting).

    Raises:
        HubDemoError: not a readable .zip.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            return sum(m.file_size for m, name in zip(infos, zip_names(infos)) if not m.is_dir() and not is_junk(name))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as err:
        raise HubDemoError(_("The file is not a readable .zip archive ({err}). Make the archive again "
                             "and upload it once more.").format(err=err)) from err


def extract_tar(path: Path, dest: Path, *, max_total_bytes: int = MAX_TOTAL_BYTES,
                max_files: int = MAX_FILES) -> Path:
    """Extract a .tar/.tgz into ``dest`` with the same checks as :func:`extract_zip`."""
    if dest.exists():
        return dest
    try:
        with tarfile.open(path) as archive:
            members = [_Member(m.name, m.size, m.isfile(), lambda m=m: archive.extractfile(m))
                       for m in archive.getmembers() if not m.isdir()]
            _extract([m.name for m in archive.getmembers()], members, dest, max_total_bytes, max_files)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise HubDemoError(_("The archive {name} is damaged or not a tar archive ({err}). "
                             "Delete it and download it again.").format(name=path.name, err=err)) from err
    return dest


def _extract(all_names: list[str], members: list[_Member], dest: Path, max_total_bytes: int,
             max_files: int) -> None:
    """Check every entry, then write the files atomically into ``dest``, counting the bytes."""
    for name in all_names:  # Junk and folders included: a hostile name is refused, not ignored.
        _safe_relative(name)
    members = [m for m in members if not is_junk(m.name)]
    for member in members:
        if not member.plain_file:
            raise HubDemoError(_("The archive contains '{name}', a link or special file; links are "
                                 "not extracted. Put the photos themselves in the archive.").format(name=member.name))
    _check_totals(len(members), sum(m.size for m in members), max_files, max_total_bytes)
    with paths.atomic_folder(dest) as tmp:
        budget = _Budget(max_total_bytes)
        for member in members:
            target = tmp / _safe_relative(member.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            with member.open() as src, open(target, "wb") as out:
                budget.copy(src, out)


def _check_totals(count: int, total: int, max_files: int, max_total_bytes: int) -> None:
    if count > max_files:
        raise HubDemoError(_("The archive holds {count:,} files, more than the {max_files:,} allowed. "
                             "Split the dataset into smaller archives.").format(count=count, max_files=max_files))
    if total > max_total_bytes:
        raise HubDemoError(_("The archive would expand to {total:.1f} GB, more than the "
                             "{max_total_bytes:.1f} GB allowed (it may be a zip bomb).").format(
                                     total=total / 1e9, max_total_bytes=max_total_bytes / 1e9))


class _Budget:
    """Counts bytes actually written: a member's declared size is not trusted."""

    def __init__(self, limit: int):
        self.left = limit

    def copy(self, src, out) -> None:
        while chunk := src.read(1 << 20):
            self.left -= len(chunk)
            if self.left < 0:
                raise HubDemoError(_("The archive expands to more than its declared size allows "
                                     "(it looks like a zip bomb); it was not extracted."))
            out.write(chunk)
