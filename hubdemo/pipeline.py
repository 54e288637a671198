"""Input pipelines: parallel decode and resize, batching, prefetch; bad files skipped and reported.

:func:`image_batches` is the tf.data pipeline that ``model.fit`` trains from
(shuffling and augmentation included); :func:`decoded_batches` feeds a frozen
model called from Python (feature extraction).

Decoding goes through :func:`hubdemo.images.load_pixels` (Pillow), so every
page sees the same pixels: EXIF orientation, HEIC, 16-bit and CMYK handled
alike. Pillow releases the GIL while it decodes, so ``num_parallel_calls``
uses every core, and prefetch overlaps the next batch's decoding with the
model's work on this one.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from hubdemo import images
from hubdemo.errors import HubDemoError

DEFAULT_BATCH_SIZE = 32  # As the tutorial.

# Pillow decodes and resizes without holding the GIL, so threads use every core.
DECODER_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hubdemo-decode")


class SkipLog:
    """Thread-safe record of the files the pipeline skipped, and why."""

    def __init__(self):
        self._lock = threading.Lock()
        self.items: list[tuple[int, str]] = []  # (file index, reason)

    def add(self, index: int, reason: str) -> None:
        with self._lock:
            self.items.append((index, reason))


def image_batches(files: Sequence[str | Path], size: int, *, labels: Sequence[int] | None = None,
                  batch_size: int = DEFAULT_BATCH_SIZE, skipped: SkipLog | None = None,
                  augment: Callable | None = None, shuffle_seed: int | None = None):
    """A ``tf.data.Dataset`` of ``(images, labels, indices)`` batches, in file order.

    Args:
        files: image paths.
        size: square side of the model input; images come as float32 in [0, 1].
        labels: an int per file (zeros if None).
        batch_size: images per batch; the last batch may be smaller.
        skipped: collects ``(index, reason)`` for files that fail to decode;
            those files are left out of the batches instead of stopping them.
        augment: an optional function applied to each batch of images (training only).
        shuffle_seed: shuffle the files anew each epoch, reproducibly (training only).
    """
    from hubdemo.tf import tf
    skipped = skipped if skipped is not None else SkipLog()
    paths = [str(f) for f in files]
    label_array = np.asarray(labels if labels is not None else np.zeros(len(paths)), dtype=np.int32)

    def decode(index):
        index = int(index)
        try:
            data = Path(paths[index]).read_bytes()
            return images.load_pixels(data, size, Path(paths[index]).name), True
        except (HubDemoError, OSError) as err:
            skipped.add(index, str(err))
            return np.zeros((size, size, 3), np.uint8), False

    def load(index, label):
        pixels, ok = tf.numpy_function(decode, [index], [tf.uint8, tf.bool], stateful=False)
        pixels.set_shape([size, size, 3])
        ok.set_shape([])
        return pixels, label, index, ok

    indices = np.arange(len(paths), dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices((indices, label_array))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(paths), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda image, label, index, ok: ok)
    ds = ds.map(lambda image, label, index, ok: (image, label, index))
    ds = ds.batch(batch_size)
    ds = ds.map(lambda pixels, label, index: (tf.cast(pixels, tf.float32) / 255.0, label, index))
    if augment is not None:
        ds = ds.map(lambda image, label, index: (augment(image), label, index),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def decoded_batches(files: Sequence[str | Path], size: int, *, batch_size: int = DEFAULT_BATCH_SIZE,
                    skipped: SkipLog | None = None, ahead: int = 2) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(images, indices)`` batches of floats in [0, 1], decoded by the thread pool ``ahead`` batches early.

    For a frozen model called from Python (feature extraction). The workers
    decode, resize and scale straight into the batch array, so the caller's
    thread does nothing but run the model, and with two batches in flight the
    workers always have the next batch to decode while the model runs. (tf.data with
    ``numpy_function`` fell into a slow mode here: about half the throughput in
    about half the runs on 2 cores.) Unreadable files go to ``skipped`` and are
    left out.
    """
    skipped = skipped if skipped is not None else SkipLog()

    def decode_into(batch: np.ndarray, row: int, index: int) -> bool:
        path = Path(files[index])
        try:
            images.load_for_model(path.read_bytes(), size, path.name, out=batch[row])
        except (HubDemoError, OSError) as err:
            skipped.add(index, str(err))
            return False
        return True

    def submit(chunk: range):
        batch = np.empty((len(chunk), size, size, 3), np.float32)
        return batch, chunk, [DECODER_POOL.submit(decode_into, batch, row, index)
                              for row, index in enumerate(chunk)]

    chunks = deque(range(i, min(i + batch_size, len(files))) for i in range(0, len(files), batch_size))
    in_flight = deque(submit(chunks.popleft()) for _ in range(min(ahead, len(chunks))))
    try:
        while in_flight:
            batch, chunk, futures = in_flight.popleft()
            kept = np.asarray([future.result() for future in futures], dtype=bool)
            if chunks:
                in_flight.append(submit(chunks.popleft()))
            if kept.all():
                yield batch, np.asarray(chunk)
            elif kept.any():
                yield batch[kept], np.asarray(chunk)[kept]
    finally:  # The caller stopped early: drop the decoding nobody will use.
        for _, _, futures in in_flight:
            for future in futures:
                future.cancel()
