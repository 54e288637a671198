"""Classification throughput (images/s, batch 32): the app's path against plain hub.KerasLayer + model.predict.

Both sides start from the same JPEG bytes in memory and produce ImageNet
probabilities for the same model. The baseline is the tutorial's code: a PIL
loop (open, RGB, resize), then ``tf_keras.Sequential([hub.KerasLayer(...)]).predict``.
The app's path is ``models.ImageNetClassifier.classify_files``: threaded decode, one
traced forward pass, top-5.

    python bench/classify_throughput.py [--images DIR] [--batches N]
"""

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hubdemo import models  # noqa: E402

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "flowers"
BATCH = 32


def photos(folder: Path, count: int) -> list[tuple[str, bytes]]:
    paths = sorted(folder.rglob("*.jpg"))
    if not paths:
        sys.exit(f"no .jpg photos under {folder}; pass --images DIR")
    return [(p.name, p.read_bytes()) for p in (paths * (count // len(paths) + 1))[:count]]


def baseline(handle: str):
    from hubdemo.tf import hub, tf, tf_keras
    from PIL import Image
    model = tf_keras.Sequential([hub.KerasLayer(hub.load(models.hub_handle(handle)), input_shape=(224, 224, 3))])

    def run(batch):
        arr = np.stack([np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((224, 224)),
                                   dtype=np.float32) / 255.0 for _, data in batch])
        return tf.nn.softmax(model.predict(arr, batch_size=BATCH, verbose=0)).numpy()
    return run


def app_path(handle: str):
    classifier = models.ImageNetClassifier(handle)
    return lambda batch: classifier.classify_files(batch, k=5)


def images_per_second(run, batches) -> float:
    run(batches[0])  # Warm-up: tracing and first-call allocation.
    start = time.perf_counter()
    for batch in batches:
        run(batch)
    return len(batches) * BATCH / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--model", default=models.DEFAULT_CLASSIFIER)
    args = parser.parse_args()
    handle = models.resolve_handle(args.model)
    data = photos(args.images, BATCH * args.batches)
    batches = [data[i:i + BATCH] for i in range(0, len(data), BATCH)]
    print(f"config: model={args.model} batch={BATCH} batches={args.batches} images={args.images}")
    base = images_per_second(baseline(handle), batches)
    app = images_per_second(app_path(handle), batches)
    print(f"baseline (PIL loop + model.predict): {base:7.1f} images/s")
    print(f"app path (ImageNetClassifier.classify_files): {app:7.1f} images/s")
    print(f"ratio app/baseline: {app / base:.2f}x (goal >= 1.2x)")


if __name__ == "__main__":
    main()
