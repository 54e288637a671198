"""The frozen feature extractor, run once per image: features cached in memory and on disk.

With the backbone frozen, an image's feature vector never changes, so every
epoch and every later run with other settings reuses it. The cache key is the
model plus the file's content (not its path), so renamed or re-uploaded
photos hit the cache and an edited photo does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from hubdemo import bundled, images, models, paths, pipeline
from hubdemo.i18n import _

EXTRACT_BATCH_SIZE = 32
MEMORY_VECTORS = 20_000  # The newest vectors kept in memory (about 100 MB for 1280 numbers); the rest on disk.
PACKS_KEPT = 2  # Packed datasets kept per model (50,000 photos: 256 MB each); older ones are deleted.
PACK_CHUNK = 1024
CACHE_MB = 2048  # Vectors kept on disk, all models together (400,000 photos' worth); the least used go first.
PRUNE_EVERY = 10_000  # New vectors between two looks at the disk cache's size (and one at the first).
TOUCH_AFTER = 3600  # Seconds: a vector read from disk is marked as used at most this often.

_since_prune = PRUNE_EVERY  # Vectors this process wrote since it last looked (the first write looks).
_pruner = threading.Lock()  # One look at a time.


def cache_limit() -> int:
    """Bytes of vectors the disk cache may hold: ``$HUBDEMO_FEATURE_CACHE_MB``, else :data:`CACHE_MB`."""
    return int(float(os.environ.get("HUBDEMO_FEATURE_CACHE_MB") or CACHE_MB) * 1024 * 1024)


def prune(root: Path | None = None, limit: int | None = None) -> int:
    """Delete the least recently used vectors until the rest fill at most 80% of ``limit``; how many went.

    Without it the disk cache would grow with every photo ever shown to the app (every upload, a
    class's phone photos, every frame recorded). A vector deleted here is only computed again when
    its photo comes back. Vectors read from disk are marked as used (:meth:`FeatureExtractor._lookup`),
    so a dataset in use stays; the packed datasets have their own bound (:data:`PACKS_KEPT`).
    """
    root = paths.cache_dir() / "features" if root is None else root
    limit = cache_limit() if limit is None else limit
    entries = []
    for shard in root.glob("*/??"):  # features/<model>/<first two hex digits of the key>/<key>.npy
        with contextlib.suppress(OSError):
            for entry in os.scandir(shard):
                if entry.name.endswith(".npy"):
                    with contextlib.suppress(OSError):
                        info = entry.stat()
                        entries.append((info.st_mtime, info.st_size, entry.path))
    total = sum(size for _when, size, _path in entries)
    if total <= limit:
        return 0
    removed = 0
    for _when, size, path in sorted(entries):
        if total <= limit * 0.8:
            break
        with contextlib.suppress(OSError):
            os.unlink(path)
            total -= size
            removed += 1
    return removed


def _wrote_one() -> threading.Thread | None:
    """Count a vector written; now and then look at the disk cache's size, in the background."""
    global _since_prune
    _since_prune += 1
    if _since_prune < PRUNE_EVERY or not _pruner.acquire(blocking=False):
        return None
    _since_prune = 0

    def look():
        try:
            prune()
        finally:
            _pruner.release()
    thread = threading.Thread(target=look, name="hubdemo-feature-cache-prune", daemon=True)
    thread.start()
    return thread


def content_key(path: Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def model_key(handle: str) -> str:
    """A folder name for one model's features; changes when the model does."""
    version = f"v{bundled.BUILD_VERSION}" if bundled.is_bundled(handle) else ""
    folder = Path(handle).expanduser()
    if (folder / "saved_model.pb").is_file():
        version = str((folder / "saved_model.pb").stat().st_mtime_ns)
    return hashlib.sha1(f"{handle}|{version}".encode()).hexdigest()[:16]


class FeatureExtractor:
    """A frozen ``hub.KerasLayer`` feature-vector model with a two-level feature cache (thread-safe)."""

    def __init__(self, handle: str):
        from hubdemo.tf import tf
        self.handle = handle
        self.layer, self.input_size = models.load_layer(handle, trainable=False)
        self._features = tf.function(
            self.layer, input_signature=[tf.TensorSpec([None, self.input_size, self.input_size, 3])])
        self.dim = int(self._features(tf.zeros([1, self.input_size, self.input_size, 3])).shape[-1])
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._disk = paths.cache_dir() / "features" / model_key(handle)

    def _disk_path(self, key: str) -> Path:
        return self._disk / key[:2] / f"{key}.npy"

    def _lookup(self, key: str) -> np.ndarray | None:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        path = self._disk_path(key)
        try:
            vector = np.load(path)
            if time.time() - path.stat().st_mtime > TOUCH_AFTER:
                os.utime(path)  # Used: the last to be pruned.
        except (OSError, ValueError):
            return None  # Not cached (or pruned meanwhile); a damaged entry is recomputed.
        self._remember(key, vector)
        return vector

    def _remember(self, key: str, vector: np.ndarray) -> None:
        """In memory, the newest :data:`MEMORY_VECTORS` only: a dataset of any size reads the rest from disk."""
        with self._lock:
            self._memory[key] = vector
            while len(self._memory) > MEMORY_VECTORS:
                del self._memory[next(iter(self._memory))]

    def _store(self, key: str, vector: np.ndarray) -> None:
        """Keep one vector; a disk cache that cannot be written (disk full) only costs speed later."""
        self._remember(key, vector)
        path = self._disk_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            paths.write_atomically(path, lambda f: np.save(f, vector))
        except OSError:
            return
        _wrote_one()

    def vectors(self, batch: np.ndarray) -> np.ndarray:
        """Feature vectors of model-ready images (a batch of floats in [0, 1]), not cached."""
        return self._features(np.asarray(batch, np.float32)).numpy()

    def photo(self, data: bytes, name: str = "image") -> tuple[np.ndarray, np.ndarray]:
        """A photo just uploaded (its file's bytes) as the model sees it (square, uint8) and its feature vector.

        Raises:
            HubDemoError: the file cannot be read as an image.
        """
        pixels = images.load_pixels(data, self.input_size, name)
        return pixels, self.vectors(pixels[None] / np.float32(255))[0]

    def extract(self, files: Sequence[Path], *, progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> tuple[np.ndarray, dict[int, str]]:
        """Feature vectors for ``files``; computes only those not cached.

        Returns:
            ``(features, skipped)``: a ``(len(files), dim)`` float32 array (rows of
            skipped files are zeros) and ``{file index: reason}`` for files that
            could not be decoded.
        """
        out = np.zeros((len(files), self.dim), np.float32)
        _keys, skipped = self.cache(files, progress=progress, should_stop=should_stop, into=out)
        return out, skipped

    def cache(self, files: Sequence[Path], *, progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] = lambda: False,
              into: np.ndarray | None = None) -> tuple[list[str], dict[int, str]]:
        """Compute and store the features of those of ``files`` not cached yet.

        With ``into`` (an array of ``len(files)`` rows) every file's vector is
        also gathered there; without it nothing is, so a dataset bigger than
        memory goes through with bounded memory and is read back a batch at a
        time with :meth:`gather`.

        Returns:
            ``(keys, skipped)``: each file's cache key ("" where it cannot be
            read) and ``{file index: reason}`` for the files that could not be decoded.
        """
        keys = [content_key(f) if Path(f).is_file() else "" for f in files]
        todo, skipped = [], {}
        for i, key in enumerate(keys):
            if not key:
                skipped[i] = _("{name} cannot be read (missing or not a file).").format(name=Path(files[i]).name)
            elif into is None:  # Only whether it is cached; nothing read.
                if not self._cached(key):
                    todo.append(i)
            elif (vector := self._lookup(key)) is not None:
                into[i] = vector
            else:
                todo.append(i)
        done = len(files) - len(todo)
        if progress:
            progress(done, len(files))
        log = pipeline.SkipLog()
        batches = pipeline.decoded_batches([files[i] for i in todo], self.input_size,
                                           batch_size=EXTRACT_BATCH_SIZE, skipped=log)
        with contextlib.closing(batches):  # On Stop, the decoding queued ahead is dropped at once.
            for pixels, positions in batches:
                if should_stop():
                    break
                vectors = self._features(pixels).numpy()
                for row, position in enumerate(positions):
                    index = todo[position]
                    if into is not None:
                        into[index] = vectors[row]
                    self._store(keys[index], vectors[row])
                done += len(vectors)
                if progress:
                    progress(done, len(files))
        skipped.update({todo[position]: reason for position, reason in log.items})
        return [key if i not in skipped else "" for i, key in enumerate(keys)], skipped

    def gather(self, files: Sequence[Path], keys: Sequence[str]) -> np.ndarray:
        """The vectors of ``files`` cached under ``keys`` (from :meth:`cache`), as one array.

        From memory or disk; a vector the cache lost (a disk that was full) is
        computed again, so the answer never depends on what the cache kept.
        """
        out = np.zeros((len(keys), self.dim), np.float32)
        lost = []
        for i, key in enumerate(keys):
            vector = self._lookup(key) if key else None
            if vector is not None:
                out[i] = vector
            elif key:
                lost.append(i)
        if lost:
            out[lost] = self.extract([files[i] for i in lost])[0]
        return out

    def packed(self, files: Sequence[Path], keys: Sequence[str]) -> np.ndarray | None:
        """The vectors of ``files`` (cached under ``keys``) as one read-only array mapped from a file.

        For a dataset bigger than memory: its rows are read in any order at the
        speed of memory, held by the system's file cache instead of this
        process, where one small file per photo would be opened again every
        epoch. Made once per set of photos and kept for the next run (the
        newest :data:`PACKS_KEPT` per model); None when it cannot be written
        (a full disk): then :meth:`gather` serves, slower.
        """
        folder = self._disk / "packed"
        path = folder / f"{hashlib.sha1(chr(10).join(keys).encode()).hexdigest()[:20]}.npy"
        if path.is_file():
            with contextlib.suppress(OSError, ValueError):
                rows = np.load(path, mmap_mode="r")
                if rows.shape == (len(keys), self.dim):
                    os.utime(path)  # Used: the newest pack again.
                    return rows
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for old in sorted(folder.glob("*.npy"), key=lambda f: f.stat().st_mtime)[:-(PACKS_KEPT - 1) or None]:
                old.unlink(missing_ok=True)
            for stale in folder.glob("*.tmp"):  # Left by a process that died packing (an hour is long enough).
                if time.time() - stale.stat().st_mtime > 3600:
                    stale.unlink(missing_ok=True)
            rows = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(keys), self.dim))
            for start in range(0, len(keys), PACK_CHUNK):
                end = start + PACK_CHUNK
                rows[start:end] = self.gather(files[start:end], keys[start:end])
            rows.flush()
            del rows
            tmp.replace(path)
            return np.load(path, mmap_mode="r")
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return None

    def _cached(self, key: str) -> bool:
        with self._lock:
            if key in self._memory:
                return True
        return self._disk_path(key).is_file()
