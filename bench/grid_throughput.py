"""The dataset grid's decode+predict path (images/s, 32-image batches) against a plain PIL loop + model.predict.

The grid's path is ``ImageNetClassifier.classify_paths``: the tf.data pipeline decodes in
parallel (JPEG at reduced scale when large) and overlaps decoding with the
model. The baseline is the tutorial's code for one batch: a PIL loop (open, RGB,
resize), then ``tf_keras.Sequential([hub.KerasLayer(...)]).predict``. Both read
the same files from disk, one 32-image batch per call, as the page asks for them.
Also prints how long one "next batch" takes (the goal is under 2 s).

    python bench/grid_throughput.py [--images DIR] [--batches N]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hubdemo import models  # noqa: E402

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "flowers"
BATCH = 32


def baseline(handle: str):
    from PIL import Image

    from hubdemo.tf import hub, tf, tf_keras
    model = tf_keras.Sequential([hub.KerasLayer(hub.load(models.hub_handle(handle)), input_shape=(224, 224, 3))])

    def run(files):
        arr = np.stack([np.asarray(Image.open(f).convert("RGB").resize((224, 224)), dtype=np.float32) / 255.0
                        for f in files])
        return tf.nn.softmax(model.predict(arr, batch_size=BATCH, verbose=0)).numpy()
    return run


def grid_path(handle: str):
    classifier = models.ImageNetClassifier(handle)
    return lambda files: classifier.classify_paths(files, k=5)


def timed(run, batches) -> tuple[float, float]:
    """(images per second, slowest batch in seconds) after one warm-up batch."""
    run(batches[0])
    slowest, start = 0.0, time.perf_counter()
    for files in batches:
        t = time.perf_counter()
        run(files)
        slowest = max(slowest, time.perf_counter() - t)
    return len(batches) * BATCH / (time.perf_counter() - start), slowest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--model", default=models.DEFAULT_CLASSIFIER)
    args = parser.parse_args()
    handle = models.resolve_handle(args.model)
    files = sorted(args.images.rglob("*.jpg"))[: BATCH * args.batches]
    if len(files) < BATCH * args.batches:
        sys.exit(f"need {BATCH * args.batches} .jpg photos under {args.images}")
    batches = [files[i:i + BATCH] for i in range(0, len(files), BATCH)]
    print(f"config: model={args.model} batch={BATCH} batches={args.batches} images={args.images}")
    base, base_slowest = timed(baseline(handle), batches)
    grid, grid_slowest = timed(grid_path(handle), batches)
    print(f"baseline (PIL loop + model.predict): {base:7.1f} images/s, slowest batch {base_slowest:.2f} s")
    print(f"grid path (ImageNetClassifier.classify_paths): {grid:7.1f} images/s, slowest batch {grid_slowest:.2f} s")
    print(f"ratio grid/baseline: {grid / base:.2f}x (goal >= 1.5x); next batch in {grid_slowest:.2f} s (goal < 2 s)")


if __name__ == "__main__":
    main()
