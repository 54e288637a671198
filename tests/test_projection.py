"""The feature map and the learning curve: both read the photos' cached features."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from hubdemo import datasets, learning_curve, projection
from hubdemo.errors import HubDemoError


@pytest.fixture(scope="module")
def colours_features(colours_dir, extractor):
    data = datasets.load_folder(colours_dir)
    feats, skipped = extractor.extract(list(data.files))
    return data, feats, skipped


def neighbours_agree(points) -> float:
    """Share of points whose nearest other point has the same label: about 1/3 for labels shuffled over 3 classes."""
    xy = np.array([(p.x, p.y) for p in points])
    distances = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(len(xy)) * 1e9
    nearest = distances.argmin(axis=1)
    return float(np.mean([points[i].label == points[j].label for i, j in enumerate(nearest)]))


@pytest.mark.parametrize("method", projection.METHODS)
def test_photos_of_a_class_land_together_and_each_point_is_its_own_photo(colours_features, method):
    data, feats, skipped = colours_features
    points = projection.feature_map(data, feats, skipped, method)
    assert [p.file for p in points] == [str(f) for f in data.files]
    assert [p.label for p in points] == [data.class_names[label] for label in data.labels]
    assert neighbours_agree(points) > 0.9, "ImageNet's features group the colours"
    shuffled = np.random.default_rng(0).permutation(len(points))
    wrong = [projection.MapPoint(p.file, points[k].label, p.x, p.y) for p, k in zip(points, shuffled)]
    assert neighbours_agree(wrong) < 0.7, "the check itself catches labels that do not belong to their points"


def test_unreadable_photos_are_left_off_the_map(colours_features):
    data, feats, _ = colours_features
    points = projection.feature_map(data, feats, {0: "broken", 5: "broken"}, "pca")
    assert len(points) == len(data) - 2 and str(data.files[0]) not in {p.file for p in points}


def test_bad_requests_are_explained():
    with pytest.raises(HubDemoError, match="Unknown method 'mds'"):
        projection.project(np.zeros((10, 4)), "mds")
    with pytest.raises(HubDemoError, match="at least 3 readable photos"):
        projection.project(np.zeros((2, 4)), "pca")


def test_a_new_photo_lands_among_the_photos_like_it(colours_features, extractor):
    from hubdemo import images
    from make_images import colour_photo
    data, feats, skipped = colours_features
    points = projection.feature_map(data, feats, skipped, "pca")
    pixels, red = extractor.photo(colour_photo((220, 40, 40), seed=99), "red.png")
    assert pixels.shape == (extractor.input_size, extractor.input_size, 3) and pixels.dtype == np.uint8
    (found,) = projection.place(red, feats, skipped, points)
    assert [n.label for n in found.neighbours] == ["red"] * 5 and found.votes() == [("red", 5)]
    assert all(a.similarity >= b.similarity for a, b in zip(found.neighbours, found.neighbours[1:])), "nearest first"
    xy = np.array([(p.x, p.y) for p in points])
    centres = {label: xy[[p.label == label for p in points]].mean(axis=0) for label in data.class_names}
    distance = {label: np.linalg.norm(np.array([found.x, found.y]) - c) for label, c in centres.items()}
    assert min(distance, key=distance.get) == "red", distance
    usual = projection.usual_similarity(feats, skipped)
    person = images.load_for_model(images.sample_photo(), extractor.input_size)  # Grace Hopper, among colours.
    (stranger,) = projection.place(extractor.vectors(person[None]), feats, skipped, points)
    assert found.neighbours[0].similarity >= usual.low > stranger.neighbours[0].similarity, \
        (found.neighbours[0], usual, stranger.neighbours[0])
    assert 0 < usual.low <= usual.median < 1
    (itself,) = projection.place(feats[7], feats, skipped, points)
    assert itself.neighbours[0].file == str(data.files[7]) and itself.neighbours[0].similarity == pytest.approx(1, abs=1e-5)

def test_umap_keeps_keras_3_out_of_the_process():
    script = ("import sys, numpy as np\n"
              "from hubdemo import projection\n"
              "xy = projection.project(np.random.default_rng(0).normal(size=(40, 8)), 'umap')\n"
              "assert xy.shape == (40, 2)\n"
              "assert 'keras' not in sys.modules, sorted(m for m in sys.modules if m.startswith('keras'))\n")
    done = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_learning_curve_rises_with_photos_and_ends_with_all_of_them(flowers_dir, extractor):
    data = datasets.load_folder(flowers_dir)
    feats, skipped = extractor.extract(list(data.files))
    split = datasets.split(data, 0.2, 0)
    points = learning_curve.learning_curve(feats, data.labels, split.train, split.validation, sizes=(1, 5, 50),
                                           draws=3)
    assert [p.per_class for p in points] == [1, 5, 50, 96] and points[-1].all_photos and points[-1].draws == 1
    assert all(p.low <= p.accuracy <= p.high for p in points)
    assert points[0].accuracy + 0.2 < points[-1].accuracy, "one photo per class is far from enough"
    assert points[-1].accuracy > 0.8


def test_sizes_beyond_the_smallest_class_are_left_out(colours_features):
    data, feats, _ = colours_features
    split = datasets.split(data, 0.2, 0)  # 10 training photos per colour.
    points = learning_curve.learning_curve(feats, data.labels, split.train, split.validation, draws=2)
    assert [p.per_class for p in points] == [1, 2, 5, 10] and points[-1].all_photos


def test_cli_map_and_learning_curve_print_json(colours_dir, bundled_dir):
    from test_cli import run_cli
    done = run_cli("map", str(colours_dir), "--method", "tsne", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["method"] == "tsne" and len(result["points"]) == 36
    assert set(result["points"][0]) == {"file", "label", "x", "y"}
    blue = sorted((colours_dir / "blue").iterdir())[0]
    done = run_cli("map", str(colours_dir), "--place", str(blue), str(colours_dir / "missing.png"), "--json")
    assert done.returncode == 0 and "missing.png cannot be read" in done.stderr, done.stderr[-2000:]
    result = json.loads(done.stdout)
    (placed,) = result["placed"]
    assert placed["file"] == str(blue) and [n["label"] for n in placed["neighbours"]] == ["blue"] * 5
    assert placed["like_the_dataset"] and set(result["usual_similarity"]) == {"median", "low"}
    assert placed["neighbours"][0]["file"] == str(blue) and placed["neighbours"][0]["similarity"] > 0.9999
    done = run_cli("learning-curve", str(colours_dir), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    curve = json.loads(done.stdout)
    assert [p["per_class"] for p in curve] == [1, 2, 5, 10] and set(curve[0]) >= {"per_class", "accuracy", "low",
                                                                                   "high", "draws"}
