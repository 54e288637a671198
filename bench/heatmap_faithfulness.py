"""Heatmaps: do they point at what the model uses? Faithfulness and speed of every method, on real photos.

For each photo the model's input is cut into a 14×14 grid. Greying the 15% of
cells with the most heat must lower the predicted class's probability more than
greying 15% of cells chosen at random (the mean of 5 draws); the script counts
the photos where it does. A random heatmap scores about 50%. Goal for the
default method (Grad-CAM, as LayerCAM on the 28×28 and 14×14 maps): >= 80%.
Also printed: plain Grad-CAM on the last 7×7 map, a random heatmap, and the
seconds per photo (goals: Grad-CAM <= 0.3 s, the model-agnostic methods <= 3 s).

Both models are measured: ImageNet's EfficientNet-Lite0 (or ``--network``'s),
and a head trained on the photos' features from the same network (5 epochs),
each explaining its own top class.

    python bench/heatmap_faithfulness.py [--data DIR] [--limit N] [--slow-limit N] [--network efficientnet_lite1]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hubdemo import bundled, datasets, explain, images, lite, models, runs, training  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "flowers"


def last_map_model(name: str):
    """The network up to its last map (7×7 for Lite0), for plain Grad-CAM."""
    from hubdemo.tf import tf_keras
    full = lite.build_efficientnet_lite(name, fold_batch_norm=True)
    return tf_keras.Model(full.input, full.get_layer(explain.LAST_LAYER).output)


def plain_gradcam(classifier, network, last_map, batch) -> list[np.ndarray]:
    """Plain Grad-CAM on the last 7×7 map: channels weighed by their average gradient (exact for a linear head)."""
    kernel, _ = explain.cam_head(classifier, network)
    classes = classifier.probabilities(batch).argmax(1)
    maps = np.concatenate([last_map(chunk, training=False).numpy() for chunk in np.array_split(batch, 8)])
    heats = np.maximum(np.einsum("nhwk,kn->nhw", maps, kernel[:, classes]), 0)
    return [explain._normalise(explain._upsample(h, batch.shape[1])) for h in heats]


def rate(classifier, photos: np.ndarray, heats) -> float:
    """Share of photos whose hottest cells matter more than random ones."""
    wins = 0
    for image, heat in zip(photos, heats):
        c = int(classifier.probabilities(image[None]).argmax())
        top, random = explain.faithfulness(classifier, image, heat, c)
        wins += top < random
    return wins / len(photos)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=600, help="photos for Grad-CAM")
    parser.add_argument("--slow-limit", type=int, default=100,
                        help="photos for occlusion and integrated gradients (0: Grad-CAM only)")
    parser.add_argument("--network", choices=bundled.NAMES, default=lite.LITE0)
    args = parser.parse_args()
    size, title = lite.variant(args.network).size, lite.variant(args.network).title.replace("EfficientNet-", "")
    dataset = datasets.load_folder(args.data)
    picks = np.linspace(0, len(dataset) - 1, min(args.limit, len(dataset))).astype(int)
    photos = np.stack([images.load_for_model(dataset.files[i].read_bytes(), size) for i in picks])
    run = runs.Run(runs.TrainConfig(epochs=5), feature_handle=bundled.handle(args.network, "feature_vector"))
    training.train(dataset, run)
    network, last_map = explain.CamNetwork(args.network), last_map_model(args.network)
    imagenet = models.ImageNetClassifier(bundled.handle(args.network, "classification"))
    print(f"config: {len(photos)} photos of {args.data.name} ({args.slow_limit} for the slow methods); "
          f"grid {explain.FAITHFULNESS_GRID}x{explain.FAITHFULNESS_GRID}, top {explain.FAITHFULNESS_SHARE:.0%} "
          f"of cells vs 5 random draws; head val accuracy {run.evaluation.accuracy:.2f}")
    for name, classifier in ((f"ImageNet {title}", imagenet), (f"flowers head on {title}", run.model)):
        slow = photos[:: max(1, len(photos) // max(args.slow_limit, 1))][: args.slow_limit]
        rng = np.random.default_rng(0)
        rows = [("random heat", photos, [rng.random((size, size)) for _ in photos], None),
                ("plain Grad-CAM, last map", photos, plain_gradcam(classifier, network, last_map, photos), None)]
        for method, batch in (("gradcam", photos), ("occlusion", slow), ("integrated-gradients", slow)):
            if not len(batch):
                continue
            explain.explain(classifier, batch[:2], method=method, network=network)  # Warm-up: tracing.
            start = time.perf_counter()
            heats = [h.heat for h in explain.explain(classifier, batch, method=method, network=network)]
            rows.append((method + (" (default)" if method == "gradcam" else ""), batch, heats,
                         (time.perf_counter() - start) / len(batch)))
        for label, batch, heats, seconds in rows:
            speed = f", {seconds:.3f} s per photo" if seconds is not None else ""
            print(f"{name:22s} {label:30s} faithful on {rate(classifier, batch, heats):6.1%} of {len(batch)} "
                  f"photos{speed}")


if __name__ == "__main__":
    main()
