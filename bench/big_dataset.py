"""A dataset bigger than one wants in memory: 50,000 small photos extracted, trained on and evaluated.

Makes the photos once (5 classes of noisy colour patches, 48 px PNGs, in the
cache), then runs the app's training path twice, each in its own process so
each has its own peak resident memory, with a feature cache of their own
(deleted at the end), so the first run is cold however often the bench runs:

  1. cold: every photo's features computed (streamed in batches, written to the disk cache), packed
     into one file mapped into memory, a head trained for 3 epochs on them a batch at a time, the
     10,000 validation photos evaluated                                     goal: peak RSS < 3 GiB
  2. warm: the same with new settings: no feature computed again, the pack reused

    python bench/big_dataset.py [--images 50000] [--epochs 3]

Prints each run's seconds, peak RSS, features computed, validation accuracy, and warm/cold time.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from hubdemo import paths  # noqa: E402

COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (40, 60, 220), "yellow": (230, 210, 40),
           "grey": (128, 128, 128)}


def make_photos(folder: Path, count: int, size: int = 48) -> Path:
    """``count`` photos in 5 class folders, made once (a marker file says the set is complete)."""
    from PIL import Image
    done = folder / f".complete-{count}"
    if done.is_file():
        return folder
    rng = np.random.default_rng(0)
    names = list(COLOURS)
    for i in range(count):
        name = names[i % len(names)]
        (folder / name).mkdir(parents=True, exist_ok=True)
        pixels = np.clip(np.asarray(COLOURS[name], float) + rng.normal(0, 60, (size, size, 3)), 0, 255)
        Image.fromarray(pixels.astype(np.uint8), "RGB").save(folder / name / f"{i:06d}.png")
    done.touch()
    return folder


def feature_files(handle: str) -> int:
    from hubdemo import features
    folder = paths.cache_dir() / "features" / features.model_key(handle)
    return sum(1 for f in folder.rglob("*.npy") if f.parent.name != "packed") if folder.is_dir() else 0


def one_run(folder: Path, epochs: int, learning_rate: float) -> dict:
    """The app's path: load the folder, extract (cached), train the head, evaluate. In this process."""
    from hubdemo import bundled, datasets, runs, training
    before = feature_files(bundled.FEATURES_HANDLE)
    started = time.monotonic()
    data = datasets.load_folder(folder)
    run = runs.RunBook().new(runs.TrainConfig(epochs=epochs, batch_size=256, learning_rate=learning_rate),
                             feature_handle=bundled.FEATURES_HANDLE, dataset_name=data.name,
                             dataset_key=data.fingerprint)
    training.train(data, run)
    return {"seconds": round(time.monotonic() - started, 1), "photos": len(data),
            "features_computed": feature_files(bundled.FEATURES_HANDLE) - before,
            "val_accuracy": round(run.evaluation.accuracy, 4), "validation_photos": len(run.evaluation.files),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--child", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--learning-rate", type=float, default=0.002, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(Path(args.child), args.epochs, args.learning_rate)))
        return
    folder = paths.cache_dir() / "bench" / f"colours-{args.images}"
    started = time.monotonic()
    make_photos(folder, args.images)
    print(f"{args.images:,} photos in {folder} (made in {time.monotonic() - started:.0f} s)", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="hubdemo-bench-") as cache:
        # A feature cache of its own, so the cold run is cold every time; the model built once, shared.
        from hubdemo import bundled
        model = bundled.build_dir()
        bundled.ensure_built()
        os.symlink(model, Path(cache) / model.name)
        env = {**os.environ, paths.CACHE_ENV: cache}
        for label, rate in (("cold", 0.002), ("warm, new settings", 0.01)):
            results.append(child(label, folder, args.epochs, rate, env))
    print(f"warm / cold time: {results[1]['seconds'] / results[0]['seconds']:.2f}")


def child(label: str, folder: Path, epochs: int, rate: float, env: dict) -> dict:
    """One run in its own process (its own peak memory), printed as it ends."""
    out = subprocess.run([sys.executable, __file__, "--child", str(folder), "--epochs", str(epochs),
                          "--learning-rate", str(rate)], capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(out.stderr[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{label}: {result['seconds']} s, peak RSS {result['peak_rss_gib']} GiB (goal < 3), "
          f"{result['features_computed']:,} features computed, validation accuracy {result['val_accuracy']} "
          f"on {result['validation_photos']:,} photos", flush=True)
    return result


if __name__ == "__main__":
    main()
