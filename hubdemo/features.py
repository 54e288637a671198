"""The frozen feature extractor, run once per image: features cached in memory and on disk.

With the backbone frozen, an image's feature vector never changes, so every
epoch and every later run with other settings reuses it. The cache key is the
model plus the file's content (not its path), so renamed or re-uploaded
photos hit the cache and an edited photo does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from hubdemo import bundled, models, paths, pipeline
from hubdemo.i18n import _

EXTRACT_BATCH_SIZE = 32
MEMORY_VECTORS = 20_000  # The newest vectors kept in memory (about 100 MB for 1280 numbers); the rest on disk.


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
        if path.is_file():
            try:
                vector = np.load(path)
            except (OSError, ValueError):
                return None  # A damaged cache entry is recomputed.
            self._remember(key, vector)
            return vector
        return None

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
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.save(f, vector)
            tmp.replace(path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def extract(self, files: Sequence[Path], *, progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> tuple[np.ndarray, dict[int, str]]:
        """Feature vectors for ``files``; computes only those not cached.

        Returns:
            ``(features, skipped)``: a ``(len(files), dim)`` float32 array (rows of
            skipped files are zeros) and ``{file index: reason}`` for files that
            could not be decoded.
        """
        keys = [content_key(f) if Path(f).is_file() else "" for f in files]
        out = np.zeros((len(files), self.dim), np.float32)
        todo, skipped = [], {}
        for i, key in enumerate(keys):
            vector = self._lookup(key) if key else None
            if vector is not None:
                out[i] = vector
            elif key:
                todo.append(i)
            else:
                skipped[i] = _("{name} cannot be read (missing or not a file).").format(name=Path(files[i]).name)
        done = len(files) - len(todo)
        if progress:
            progress(done, len(files))
        log = pipeline.SkipLog()
        batches = pipeline.decoded_batches([files[i] for i in todo], self.input_size,
                                           batch_size=EXTRACT_BATCH_SIZE, skipped=log)
        with contextlib.closing(batches):  # On Stop, the decoding queued ahead is dropped at once.
            for images, positions in batches:
                if should_stop():
                    break
                vectors = self._features(images).numpy()
                for row, position in enumerate(positions):
                    index = todo[position]
                    out[index] = vectors[row]
                    self._store(keys[index], vectors[row])
                done += len(vectors)
                if progress:
                    progress(done, len(files))
        skipped.update({todo[position]: reason for position, reason in log.items})
        return out, skipped
