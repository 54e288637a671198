"""Shared fixtures: hermetic caches, the real bundled model (built once per run), real photos."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOWERS = ROOT.parent / "shared" / "data" / "flowers"
IN_CI = bool(os.environ.get("CI"))

# Caches and exports go to a fresh folder for the whole run, set before hubdemo reads them,
# so tests never touch (or depend on) the user's ~/.cache/hubdemo or the clone's exports/.
# Test files that import from conftest load this file a second time, as another module: the same folder then,
# not a second one that nothing deletes.
_CACHE = Path(os.environ.get("HUBDEMO_TEST_CACHE") or tempfile.mkdtemp(prefix="hubdemo-test-cache-"))
os.environ["HUBDEMO_TEST_CACHE"] = str(_CACHE)
os.environ["HUBDEMO_CACHE_DIR"] = str(_CACHE)
os.environ["TFHUB_CACHE_DIR"] = str(_CACHE / "tfhub")
os.environ["HUBDEMO_EXPORTS_DIR"] = str(_CACHE / "exports")  # Not exports/ in the clone the tests run from.
sys.path.insert(0, str(ROOT))


def pytest_unconfigure(config):
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def bundled_dir():
    """The bundled EfficientNet-Lite0 SavedModels, built for real into the test cache."""
    from hubdemo import bundled
    return bundled.ensure_built()


@pytest.fixture(scope="session")
def classifier(bundled_dir):
    from hubdemo import models
    return models.ImageNetClassifier(models.resolve_handle("efficientnet_lite0"))


@pytest.fixture(scope="session")
def flowers_dir():
    """The 600 tf_flowers photos in ../shared; skipped where absent, except under CI."""
    if not FLOWERS.is_dir():
        if IN_CI:
            pytest.fail(f"CI needs the shared photos at {FLOWERS}")
        pytest.skip(f"real photos not found at {FLOWERS} (../shared is absent)")
    return FLOWERS


@pytest.fixture(scope="session")
def flower_photo(flowers_dir):
    return sorted((flowers_dir / "daisy").glob("*.jpg"))[0]


@pytest.fixture(scope="session")
def colours_dir(tmp_path_factory):
    """36 small generated photos in 3 colour classes: a dataset that trains in seconds."""
    from make_images import colour_dataset
    return colour_dataset(tmp_path_factory.mktemp("colours") / "colours")


@pytest.fixture(scope="session")
def extractor(bundled_dir):
    from hubdemo.features import FeatureExtractor
    return FeatureExtractor("bundled:efficientnet_lite0/feature_vector")


@pytest.fixture(scope="session")
def colours_run(colours_dir, extractor):
    """A finished run on the colour photos (3 epochs, its model in memory): validation accuracy 1.0."""
    from hubdemo import datasets, runs, training
    data = datasets.load_folder(colours_dir)
    run = runs.RunBook().new(runs.TrainConfig(epochs=3, batch_size=8, learning_rate=0.01),
                             feature_handle=extractor.handle, dataset_name=data.name, dataset_key=data.fingerprint)
    training.train(data, run, extractor)
    return run


@pytest.fixture(scope="session")
def colours_export(colours_run, tmp_path_factory):
    """``colours_run`` exported for real: ``(folder, ExportReport)``."""
    from hubdemo import export
    report = export.export_run(colours_run, tmp_path_factory.mktemp("exports") / "colours-run-1")
    return report.folder, report


@pytest.fixture
def classroom(colours_dir, monkeypatch):
    """The app as ``streamlit run streamlit_app.py -- --classroom --data COLOURS --passphrase tulip`` serves it."""
    import room

    def reset():
        room.policy.cache_clear()
        for shared in (room.sessions, room.project_box, room.workspace, room.trainers, room.desks):
            shared.clear()
        from hubdemo import paths
        (paths.workspace_dir() / room.DESKS_FILE).unlink(missing_ok=True)  # No desks of earlier tests come back,
        shutil.rmtree(paths.workspace_dir() / "class-projects", ignore_errors=True)  # nor their class project.

    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--classroom", "--data", str(colours_dir),
                                      "--passphrase", "tulip"])
    reset()
    yield room
    if room.project() is not None:
        room.project_box().project = None
    monkeypatch.undo()
    reset()
