"""The code behind the pages, and the notebook that reproduces a run with TensorFlow Hub alone."""

import ast
import json
import pathlib
import re

import nbformat
import pytest

from hubdemo import bundled, datasets, notebook, runs, training
from hubdemo.errors import HubDemoError


def train_and_run_notebook(data_dir, config, extractor, tmp_path):
    """The app's run on ``data_dir`` and its notebook executed in ``tmp_path``: ``(run, notebook, its printed
    output, the validation accuracy its evaluation cell printed)``."""
    from nbclient import NotebookClient
    data = datasets.load_folder(data_dir)
    run = runs.Run(config, feature_handle=bundled.FEATURES_HANDLE)
    training.train(data, run, extractor)
    nb = nbformat.reads(notebook.training_notebook(data.root, bundled.FEATURES_HANDLE, config), as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    # The evaluation cell's own line, not Keras's epoch log ("… - val_accuracy: 0.8250 - …").
    return run, nb, printed, float(re.search(r"^val_accuracy: ([0-9.]+)$", printed, re.MULTILINE).group(1))


def test_the_notebook_gets_the_apps_validation_accuracy(flowers_dir, extractor, tmp_path):
    config = runs.TrainConfig(epochs=10, learning_rate=0.005, seed=3)
    run, _nb, printed, notebook_accuracy = train_and_run_notebook(flowers_dir, config, extractor, tmp_path)
    assert abs(notebook_accuracy - run.evaluation.accuracy) <= 0.03, (notebook_accuracy, run.evaluation.accuracy)
    assert "largest difference in predictions: 0.0" in printed and (tmp_path / "exported_model" / "labels.txt").exists()


def test_an_augmented_runs_notebook_trains_the_whole_network_to_the_apps_accuracy(colours_dir, extractor, tmp_path):
    """The slow path (augmentation: the whole network on every photo, every epoch) runs to the end too."""
    config = runs.TrainConfig(epochs=3, batch_size=8, learning_rate=0.01, augment=True, seed=1)
    run, nb, printed, notebook_accuracy = train_and_run_notebook(colours_dir, config, extractor, tmp_path)
    assert "RandomRotation" in "".join(c.source for c in nb.cells)
    one_photo = 1 / len(run.evaluation.files)  # Measured: the same (0.667 of 6 photos); augmentation draws may differ.
    assert abs(notebook_accuracy - run.evaluation.accuracy) <= one_photo + 1e-3, (notebook_accuracy, run.evaluation.accuracy)
    assert "largest difference in predictions: 0.0" in printed and (tmp_path / "exported_model" / "labels.txt").exists()

def test_the_notebook_stands_alone_and_carries_the_runs_settings(colours_dir, tmp_path):
    config = runs.TrainConfig(epochs=7, batch_size=8, learning_rate=0.01, validation_split=0.25, seed=4, dropout=0.0)
    text = notebook.training_notebook(colours_dir, bundled.FEATURES_HANDLE, config)
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    ast.parse(code)
    assert "import hubdemo" not in code and "from hubdemo" not in code
    for line in ("EPOCHS = 7", "BATCH_SIZE = 8", "LEARNING_RATE = 0.01", "VALIDATION_SPLIT = 0.25", "SEED = 4",
                 "DROPOUT = 0.0", f'LOCAL_MODEL = "{bundled.build_dir() / "feature_vector"}"',
                 "https://tfhub.dev/tensorflow/efficientnet/lite0/feature-vector/2", str(colours_dir)):
        assert line in code, line
    expander = notebook.training_code(colours_dir, bundled.FEATURES_HANDLE, config)
    assert expander == "\n\n".join(c.source for c in nb.cells if c.cell_type == "code"), "the page shows what runs"


def test_the_notebook_speaks_the_readers_language_and_its_code_stays_the_same(colours_dir):
    from hubdemo import i18n
    config = runs.TrainConfig(epochs=3)
    english = nbformat.reads(notebook.training_notebook(colours_dir, bundled.FEATURES_HANDLE, config), as_version=4)
    with i18n.speaking("zh_CN"):
        chinese = nbformat.reads(notebook.training_notebook(colours_dir, bundled.FEATURES_HANDLE, config),
                                 as_version=4)
    prose = [c.source for c in chinese.cells if c.cell_type == "markdown"]
    assert prose[0].startswith("# 使用 TensorFlow Hub 进行迁移学习") and "在缓存的特征上训练一个新的最后一层" in prose[0]
    assert "## 它有多好？\n在它从未训练过的验证照片上。" in prose
    assert not any(re.search(r"\b(the|photos|settings)\b", p) for p in prose), prose
    assert [c.source for c in chinese.cells if c.cell_type == "code"] == \
        [c.source for c in english.cells if c.cell_type == "code"]


def test_augmented_and_fine_tuned_runs_train_the_whole_network_in_the_notebook(colours_dir):
    code = notebook.training_code(colours_dir, bundled.FEATURES_HANDLE, runs.TrainConfig(augment=True, fine_tune=True))
    ast.parse(code)
    assert "trainable=True" in code and "RandomFlip" in code and "model.fit(batches(train_idx, True)" in code


def test_a_run_from_scratch_has_no_notebook(colours_dir):
    with pytest.raises(HubDemoError, match="A run from scratch builds its network with the app's own code"):
        notebook.training_cells(colours_dir, bundled.FEATURES_HANDLE, runs.TrainConfig(from_scratch=True))


def test_every_pages_code_is_python_that_names_its_model(colours_dir):
    url = "https://tfhub.dev/google/tf2-preview/mobilenet_v2/classification/2"
    for code in (notebook.classify_code(bundled.CLASSIFIER_HANDLE, 224), notebook.classify_code(url, 224),
                 notebook.grid_code(colours_dir, url, 224),
                 *(notebook.feature_map_code(colours_dir, bundled.FEATURES_HANDLE, m) for m in ("pca", "tsne", "umap"))):
        ast.parse(code)
        assert "HANDLE = " in code and "hub.KerasLayer(HANDLE" in code
    assert f"HANDLE = {url!r}" in notebook.classify_code(url, 224)


def test_cli_notebook_writes_an_ipynb_and_will_not_overwrite_other_files(colours_dir, tmp_path, bundled_dir):
    from test_cli import run_cli
    done = run_cli("notebook", str(colours_dir), "--out", str(tmp_path / "run.ipynb"), "--epochs", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    nb = json.loads((tmp_path / "run.ipynb").read_text())
    assert nb["nbformat"] == 4 and any("EPOCHS = 3" in "".join(c["source"]) for c in nb["cells"])
    (tmp_path / "notes.ipynb").write_text("my notes, not a notebook")
    done = run_cli("notebook", str(colours_dir), "--out", str(tmp_path / "notes.ipynb"))
    assert done.returncode == 1 and "is not a notebook" in done.stderr
    assert (tmp_path / "notes.ipynb").read_text() == "my notes, not a notebook"


def run_script(code: str, cwd) -> str:
    """Run ``code`` as a student would, in a Python of its own (no hubdemo imported); its printed output."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_feature_maps_code_places_a_photo_among_the_same_neighbours_as_the_app(colours_dir, extractor, tmp_path):
    from hubdemo import images, projection
    from make_images import colour_photo
    photo = colour_photo((40, 60, 220), seed=21)
    (tmp_path / "mine.png").write_bytes(photo)
    data = datasets.load_folder(colours_dir)
    feats, skipped = extractor.extract(list(data.files))
    points = projection.feature_map(data, feats, skipped, "pca")
    (found,) = projection.place(extractor.vectors(images.load_for_model(photo, extractor.input_size)[None]),
                                feats, skipped, points)
    code = notebook.feature_map_code(colours_dir, extractor.handle, "pca", extractor.input_size, placed=["mine.png"])
    lines = run_script(code, tmp_path).splitlines()[-projection.NEIGHBOURS:]
    assert all(line.startswith("mine.png: ") for line in lines), lines
    printed = [line.removeprefix("mine.png: ").split(" ", 2) for line in lines]
    assert [(label, file) for label, _, file in printed] == [(n.label, n.file) for n in found.neighbours]
    assert [float(s) for _, s, _ in printed] == pytest.approx([n.similarity for n in found.neighbours], abs=2e-3)

def test_your_models_code_loads_its_export_and_gets_the_apps_answers(colours_export, colours_run, colours_dir,
                                                                     tmp_path):
    from hubdemo import evaluation
    folder, _ = colours_export
    photo = sorted((colours_dir / "red").iterdir())[0]
    (tmp_path / "photo.jpg").write_bytes(photo.read_bytes())
    printed = run_script(notebook.your_model_code(folder, colours_run.model.input_size), tmp_path).split()
    (app,) = colours_run.model.classify_files([("photo.jpg", photo.read_bytes())], k=1)
    assert printed[-2] == app.predictions[0].label == "red"
    assert printed[-1] == f"{app.predictions[0].probability:.0%}"
    assert 'EXPORT_DIR = "exports/…"' in notebook.your_model_code(None, 224), "not exported yet: says so"

    # The grid's code: the same photos judged (the validation split), the same verdicts.
    data = datasets.load_folder(colours_dir)
    config = colours_run.config
    code = notebook.judge_code(colours_dir, folder, colours_run.model.input_size, config.validation_split, config.seed)
    printed = run_script(code, tmp_path)
    held_back = datasets.split(data, config.validation_split, config.seed).validation
    ev, _ = evaluation.evaluate_dataset(colours_run.model, data, held_back)
    assert f"accuracy: {ev.accuracy:.1%} on {len(held_back)} photos" in printed
    assert printed.count("✓") == sum(v.correct for v in ev.verdicts)


@pytest.mark.parametrize("method", ["occlusion", "integrated-gradients"])
def test_the_heatmaps_code_draws_the_apps_heatmap(method, colours_export, colours_run, colours_dir, classifier,
                                                  bundled_dir, tmp_path):
    """Your export by occlusion, ImageNet's TF Hub model by integrated gradients: the page's heat, in plain code."""
    import numpy as np

    from hubdemo import explain, images
    folder, _ = colours_export
    if method == "occlusion":
        photo, model, where = sorted((colours_dir / "green").iterdir())[0].read_bytes(), colours_run.model, {"folder": folder}
    else:
        photo, model, where = images.sample_photo(), classifier, {"handle": bundled.CLASSIFIER_HANDLE}
    (tmp_path / "photo.jpg").write_bytes(photo)
    printed = run_script(notebook.heatmap_code(method, model.input_size, **where), tmp_path)
    (app,) = explain.explain(model, images.load_for_model(photo, model.input_size)[None], method=method)
    heat = np.load(tmp_path / "heatmap.npy")
    assert heat.shape == app.heat.shape and heat.max() == 1.0 and (heat < 0.5).mean() > 0.2, "a map, not a blank"
    assert np.abs(heat - app.heat).max() < 0.02 and printed == ""


def test_run_where_its_photos_are_not_the_notebook_says_what_to_do(tmp_path):
    """A student's laptop in a classroom, or Colab: the folder the app read is on another computer."""
    import numpy as np
    from PIL import Image
    with pytest.raises(FileNotFoundError, match=r"^No folder at .*gone: the photos are on the computer the app ran "
                                                r"on\. Copy them here, one subfolder per class"):
        exec(notebook.dataset_code(tmp_path / "gone"), {"pathlib": pathlib, "np": np, "Image": Image})
    grid = notebook.grid_code(tmp_path / "gone", bundled.FEATURES_HANDLE, 224)  # The grid page's code too.
    assert grid.index("raise FileNotFoundError") < grid.index("files = sorted(")
    # The tutorial's flowers, downloaded by the app, come again from their address (not fetched here: no network).
    from hubdemo import paths
    code = notebook.dataset_code(paths.cache_dir() / "datasets" / "flower_photos" / "flower_photos")
    assert f'tf_keras.utils.get_file("flower_photos", origin={datasets.FLOWERS_URL!r}, untar=True)' in code
    assert "FileNotFoundError" not in code
