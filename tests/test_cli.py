"""``python -m hubdemo classify``: one JSON list in input order, errors per file, no tracebacks."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from hubdemo import images


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "hubdemo", *args], env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def photos(tmp_path_factory, bundled_dir):
    folder = tmp_path_factory.mktemp("photos")
    (folder / "hopper.jpg").write_bytes(images.sample_photo())
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return folder


def test_classify_prints_one_json_object_per_input_in_order(photos):
    done = run_cli("classify", str(photos / "hopper.jpg"), str(photos / "broken.jpg"),
                   str(photos / "missing.png"), "--top-k", "3", "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["file"] for r in records] == [str(photos / n) for n in ("hopper.jpg", "broken.jpg", "missing.png")]
    top = records[0]["predictions"]
    assert len(top) == 3 and top[0] == {"index": 652, "label": "military uniform",
                                        "probability": pytest.approx(top[0]["probability"])}
    assert top[0]["probability"] > top[1]["probability"] > 0
    assert "damaged" in records[1]["error"] or "not an image" in records[1]["error"]
    assert "No such file" in records[2]["error"]


def test_classify_fails_when_no_file_could_be_classified(photos):
    done = run_cli("classify", str(photos / "broken.jpg"), "--json")
    assert done.returncode == 1
    assert "error" in json.loads(done.stdout)[0]


def test_bad_model_handle_is_one_line_on_stderr_without_traceback(photos, tmp_path):
    done = run_cli("classify", str(photos / "hopper.jpg"), "--model", str(tmp_path), "--json")
    assert done.returncode == 1
    assert "not a SavedModel folder" in done.stderr and "Traceback" not in done.stderr
    # Only that line: TensorFlow's start-up notes (oneDNN, "CUDA error: failed call to cuInit") are held back.
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""


def test_dataset_prints_classes_counts_and_skipped_files(tmp_path):
    from make_images import jpeg
    for name in ("cat/1.jpg", "cat/2.jpg", "dog/1.jpg", "dog/2.jpg"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(jpeg())
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"")
    done = run_cli("dataset", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"classes": ["cat", "dog"], "counts": {"cat": 2, "dog": 2},
                                       "skipped": [{"file": "dog/broken.jpg", "reason": "empty file"}]}


def test_dataset_checks_a_zip_with_the_uploads_code(tmp_path):
    import zipfile
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("cat/1.jpg", b"x")
        z.writestr("../../outside.jpg", b"x")
    done = run_cli("dataset", str(tmp_path / "evil.zip"), "--json")
    assert done.returncode == 1
    assert "outside its own folder" in json.loads(done.stdout)["error"]
    assert not (tmp_path.parent / "outside.jpg").exists()


def test_train_exports_and_prints_a_json_summary_last(colours_dir, tmp_path, bundled_dir):
    done = run_cli("train", str(colours_dir), "--out", str(tmp_path / "model"), "--epochs", "3",
                   "--batch-size", "8", "--learning-rate", "0.01", "--seed", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines[1:4]] == ["epoch 1", "epoch 2", "epoch 3"]
    summary = json.loads(lines[-1])
    assert summary["val_accuracy"] == 1.0 and summary["reload_max_abs_diff"] <= 1e-5 and summary["seconds"] > 0
    assert summary["tflite_agreement"] == {"model.tflite": 1.0, "model_quant.tflite": 1.0}
    out = tmp_path / "model"
    assert {"saved_model.pb", "labels.txt", "model.tflite", "model_quant.tflite", "metadata.json"} <= \
        {p.name for p in out.iterdir()}
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["dataset"] == "colours" and meta["settings"]["seed"] == 1 and meta["val_accuracy"] == 1.0

    from make_images import colour_photo
    (tmp_path / "shot.png").write_bytes(colour_photo((220, 40, 40), seed=99))
    classified = run_cli("classify", str(tmp_path / "shot.png"), "--model", str(out), "--top-k", "2", "--json")
    assert classified.returncode == 0, classified.stderr[-2000:]
    (record,) = json.loads(classified.stdout)
    assert record["file"] == str(tmp_path / "shot.png") and len(record["predictions"]) == 2
    assert record["predictions"][0]["label"] == "red" and record["predictions"][0]["index"] == 2
    assert set(record["predictions"][0]) == {"index", "label", "probability"}

    evaluated = run_cli("evaluate", str(tmp_path / "model"), str(colours_dir), "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    result = json.loads(evaluated.stdout)
    assert result["labels"] == ["blue", "green", "red"] and result["accuracy"] == 1.0
    assert result["per_class"] == {"blue": 1.0, "green": 1.0, "red": 1.0}
    assert result["confusion"] == [[12, 0, 0], [0, 12, 0], [0, 0, 12]]


def test_evaluate_matches_classes_by_name_and_says_which_are_unknown(colours_dir, tmp_path, bundled_dir):
    from make_images import colour_dataset
    run_cli("train", str(colours_dir), "--out", str(tmp_path / "model"), "--epochs", "1")
    other = colour_dataset(tmp_path / "other", per_class=3, classes={"green": (40, 200, 60), "purple": (150, 0, 150)})
    done = run_cli("evaluate", str(tmp_path / "model"), str(other), "--json")
    assert done.returncode == 1 and "purple" in done.stderr and "Traceback" not in done.stderr


def test_classify_with_a_broken_export_is_one_line_on_stderr(photos, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "saved_model.pb").write_bytes(b"not a model")
    (export / "labels.txt").write_text("cat\ndog\n")
    done = run_cli("classify", str(photos / "hopper.jpg"), "--model", str(export), "--json")
    assert done.returncode == 1 and done.stdout == ""
    assert "could not be loaded as a SavedModel" in done.stderr and "Traceback" not in done.stderr


def test_train_from_scratch_reports_and_exports_like_any_run(colours_dir, tmp_path, bundled_dir):
    done = run_cli("train", str(colours_dir), "--out", str(tmp_path / "scratch"), "--from-scratch", "--epochs", "1",
                   "--batch-size", "8")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 <= summary["val_accuracy"] <= 1 and summary["reload_max_abs_diff"] <= 1e-5
    meta = json.loads((tmp_path / "scratch" / "metadata.json").read_text())
    assert meta["settings"]["from_scratch"] is True


def test_compare_trains_the_same_head_on_each_model_and_prints_one_json_row_each(colours_dir):
    result = run_cli("compare", str(colours_dir), "--models", "efficientnet_lite0_features,efficientnet_lite1_features",
                     "--epochs", "3", "--batch-size", "8", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["model"] for r in rows] == ["efficientnet_lite0_features", "efficientnet_lite1_features"]
    for row in rows:
        assert set(row) == {"model", "val_accuracy", "ms_per_image", "export_mb", "parameters"}
        assert row["val_accuracy"] == 1.0 and row["ms_per_image"] > 0 and 10 < row["export_mb"] < 40
    assert rows[1]["parameters"] > rows[0]["parameters"] > 3_000_000
    assert "EfficientNet-Lite1 feature vector: training a head on its features (2 of 2)" in result.stderr


def test_compare_refuses_fewer_than_two_different_models(colours_dir):
    one = run_cli("compare", str(colours_dir), "--models", "efficientnet_lite0_features")
    assert one.returncode == 1 and "Compare two to 4 different models" in one.stderr
    same = run_cli("compare", str(colours_dir), "--models", "efficientnet_lite0_features,efficientnet_lite0_features")
    assert same.returncode == 1 and "different models" in same.stderr
