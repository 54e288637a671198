"""Runs: numbering and labels, which keep their model, what changed, and progress that tells one story."""

import subprocess
import sys

import pytest

from conftest import ROOT
from hubdemo.runs import Run, RunBook, RunSnapshot, TrainConfig


def snapshot(**fields) -> RunSnapshot:
    base = dict(status="training", message="", batches=[], epochs=[], epoch=0, total_epochs=20, step=0,
                steps_per_epoch=10, extracted=(0, 0), elapsed=0.0, training_elapsed=0.0)
    return RunSnapshot(**{**base, **fields})


def test_runs_are_numbered_and_named_after_their_dataset():
    book = RunBook()
    first = book.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1")
    second = book.new(TrainConfig(learning_rate=0.02), feature_handle="h", dataset_name="flowers", dataset_key="k1")
    assert (first.label, second.label) == ("flowers · run 1", "flowers · run 2")
    assert book.latest is second and book.get(1) is first and book.get(3) is None


def test_only_the_newest_runs_keep_their_model_and_every_run_keeps_its_record():
    book = RunBook(keep_models=3)
    runs = []
    for number in range(1, 6):
        run = book.new(TrainConfig(), feature_handle="h", dataset_name="d", dataset_key="k")
        run.model, run.evaluation = f"model {number}", f"evaluation {number}"
        run.set_status("done")
        runs.append(run)
    assert [r.model for r in runs] == [None, None, "model 3", "model 4", "model 5"]
    assert [r.evaluation for r in runs] == [f"evaluation {n}" for n in range(1, 6)]
    assert [r.number for r in book.with_models()] == [5, 4, 3]


def test_the_runs_table_row_follows_a_run_while_it_trains():
    run = RunBook().new(TrainConfig(epochs=5), feature_handle="h", dataset_name="flowers", dataset_key="k")
    run.set_status("training")
    assert run.summary()["Validation accuracy"] is None and run.summary()["Epochs"] == "0 of 5"
    for epoch, accuracy in enumerate((0.6, 0.75)):
        run.begin_epoch(epoch, 10)
        run.record_epoch({"loss": 1.0, "val_accuracy": accuracy})
    row = run.summary("EfficientNet-Lite0")
    assert (row["Validation accuracy"], row["Epochs"], row["Status"]) == (0.75, "2 of 5", "training")
    # In view before the table scrolls: what a comparison reads across, and how far the run has got.
    assert list(row)[:7] == ["Run", "Dataset", "Feature extractor", "Validation accuracy", "Learning rate", "Epochs",
                             "Status"]
    assert row["Feature extractor"] == "EfficientNet-Lite0"


def test_a_running_run_is_not_offered_as_a_model():
    book = RunBook()
    run = book.new(TrainConfig(), feature_handle="h", dataset_name="d", dataset_key="k")
    run.model = "half trained"
    assert book.running is run and book.with_models() == []
    run.set_status("stopped")
    assert book.running is None and book.with_models() == [run]


def test_a_run_matches_only_its_own_data_settings_and_model():
    run = Run(TrainConfig(), feature_handle="h", dataset_key="k")
    assert run.matches("k", TrainConfig(), "h")
    assert not run.matches("other photos", TrainConfig(), "h")
    assert not run.matches("k", TrainConfig(epochs=5), "h")
    assert not run.matches("k", TrainConfig(), "another model")


def test_changed_settings_are_named_in_words():
    old, new = TrainConfig(), TrainConfig(learning_rate=0.02, augment=True)
    assert new.changes_from(old) == ["learning rate 0.002 → 0.02", "no augmentation → augmentation"]
    assert TrainConfig(from_scratch=True).changes_from(old) == ["transfer from ImageNet → from scratch"]
    assert old.changes_from(old) == []


def test_before_features_are_computed_the_progress_says_so_and_not_epoch_1():
    starting = snapshot(status="starting", steps_per_epoch=0)
    assert starting.progress_text() == "Getting ready: loading the model…" and starting.fraction_done == 0.0
    extracting = snapshot(status="extracting", extracted=(150, 600), steps_per_epoch=0)
    assert extracting.progress_text().startswith("Computing features: 150 of 600 photos")
    assert extracting.fraction_done == 0.25
    assert "step 0 of 0" not in snapshot(status="training", steps_per_epoch=0).progress_text()


def test_the_time_left_counts_only_training_not_feature_extraction():
    # 227 s went on extracting features, 2 s on 1 of 2 epochs: about 2 s are left, not 229.
    snap = snapshot(epoch=1, step=0, total_epochs=2, elapsed=229.0, training_elapsed=2.0)
    assert snap.seconds_left == pytest.approx(2.0)
    assert "about 2 s left" in snap.progress_text()


@pytest.mark.parametrize("epoch, step", [(0, 1), (9, 0), (9, 5), (19, 10)])
def test_the_bar_and_the_text_tell_the_same_epoch(epoch, step):
    snap = snapshot(epoch=epoch, step=step, total_epochs=20, steps_per_epoch=10)
    shown = int(snap.progress_text().split()[1])  # "Epoch 10 of 20 · …"
    assert (shown - 1) / 20 <= snap.fraction_done <= shown / 20


def test_the_run_module_does_not_load_tensorflow():
    done = subprocess.run([sys.executable, "-c", "import sys; import hubdemo.runs; "
                           "assert 'tensorflow' not in sys.modules"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_what_changed_since_a_run_is_said_in_words():
    from pathlib import Path

    from hubdemo.datasets import Dataset
    same = Dataset("flowers", Path("/f"), ("daisy", "roses"), tuple(Path(f"/f/{i}.jpg") for i in range(600)),
                   (0, 1) * 300)
    other = Dataset("shades", Path("/s"), ("dark", "light"), tuple(Path(f"/s/{i}.jpg") for i in range(8)), (0, 1) * 4)
    run = Run(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key=same.fingerprint)
    assert run.changes_since(same, TrainConfig(), "h") == []
    assert run.changes_since(other, TrainConfig(learning_rate=0.02), "h2", "MobileNetV2") == [
        "the dataset (now shades, 8 photos)", "the feature extractor (now MobileNetV2)",
        "learning rate 0.002 → 0.02"]
    assert run.describe("EfficientNet-Lite0") == ("20 epochs · batch size 32 · learning rate 0.002 · dropout 0.3 · "
                                                  "validation share 20% · seed 0 · EfficientNet-Lite0")


def test_runs_compared_are_named_by_what_tells_them_apart():
    from hubdemo.runs import compare_names
    book = RunBook()
    rates = [book.new(TrainConfig(learning_rate=lr), feature_handle="h", dataset_name="flowers", dataset_key="k")
             for lr in (0.02, 0.002, 0.0002)]
    assert list(compare_names(rates).values()) == ["flowers · run 1 (learning rate 0.02)",
                                                   "flowers · run 2 (learning rate 0.002)",
                                                   "flowers · run 3 (learning rate 0.0002)"]
    assert compare_names(rates[:1]) == {"flowers · run 1": "flowers · run 1"}


def test_transfer_and_scratch_runs_are_named_as_such():
    from hubdemo.runs import compare_names
    book = RunBook()
    both = [book.new(TrainConfig(from_scratch=s), feature_handle="h", dataset_name="flowers", dataset_key="k")
            for s in (False, True)]
    assert list(compare_names(both).values()) == ["flowers · run 1 (transfer from ImageNet)",
                                                  "flowers · run 2 (from scratch)"]
    assert both[1].describe("EfficientNet-Lite0").endswith("seed 0 · from scratch · EfficientNet-Lite0")


def test_runs_on_different_models_are_told_apart_by_their_model():
    from hubdemo.runs import compare_names
    book = RunBook()
    lite0, lite2 = (book.new(TrainConfig(), feature_handle=h, dataset_name="flowers", dataset_key="k")
                    for h in ("bundled:efficientnet_lite0/feature_vector", "bundled:efficientnet_lite2/feature_vector"))
    assert list(compare_names([lite0, lite2], lambda h: h.split(":")[1].split("/")[0]).values()) == [
        "flowers · run 1 (efficientnet_lite0)", "flowers · run 2 (efficientnet_lite2)"]


def finished_run(book: RunBook, status: str = "done", **settings) -> Run:
    """A run that trained two epochs of three steps on 3 photos of 2 classes, as the training thread leaves it."""
    import numpy as np

    from hubdemo import evaluation
    run = book.new(TrainConfig(epochs=2, learning_rate=0.02, **settings), feature_handle="h", dataset_name="flowers",
                   dataset_key="k1")
    run.set_status("training")
    for epoch in range(2):
        run.begin_epoch(epoch, 3)
        for step in range(3):
            run.record_batch(step, 1.0 / (1 + step + 3 * epoch), 0.5 + 0.1 * step)
        run.record_epoch({"loss": 0.5 - 0.1 * epoch, "accuracy": 0.7, "val_loss": 0.6, "val_accuracy": 0.5 + 0.5 * epoch})
    run.evaluation = evaluation.evaluate(np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]), [0, 1, 1],
                                         ("daisy", "rose 🌹"), ["/d/a.jpg", "/d/b.jpg", "/d/c.jpg"])
    run.seconds = 4.2
    run.set_status(status, "Stopped early." if status == "stopped" else "")
    return run


def test_finished_runs_outlive_the_app(tmp_path):
    book = RunBook()
    done = finished_run(book)
    finished_run(book, "stopped")
    training = book.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1")
    path = tmp_path / "desk" / "runs.json"
    assert book.save(path) and not book.save(path), "written once, then only when a run changes phase or ends"
    training.set_status("error", "It crashed.")
    assert book.save(path)

    kept = RunBook.load(path)
    assert [r.number for r in kept.runs] == [1, 2, 3] and all(r.model is None for r in kept.runs)
    for before, after in zip(book.runs, kept.runs):
        assert (after.label, after.config, after.feature_handle, after.dataset_key, after.seconds, after.status) == (
            before.label, before.config, before.feature_handle, before.dataset_key, before.seconds, before.status)
        then, now = before.snapshot(), after.snapshot()
        assert (now.batches, now.epochs, now.message, now.fraction_done) == (
            then.batches, then.epochs, then.message, then.fraction_done)
        assert abs(now.elapsed - then.elapsed) < 0.01 and abs(now.training_elapsed - then.training_elapsed) < 0.01
    assert kept.runs[0].evaluation.confusion.tolist() == done.evaluation.confusion.tolist() == [[1, 0], [1, 1]]
    assert kept.runs[0].evaluation.class_names == ("daisy", "rose 🌹")
    assert [v.probability for v in kept.runs[0].evaluation.verdicts] == pytest.approx([0.9, 0.8, 0.7])
    assert kept.runs[2].evaluation is None and kept.runs[2].snapshot().message == "It crashed."
    assert kept.runs[1].summary()["Validation accuracy"] == pytest.approx(2 / 3)
    assert not kept.save(path), "nothing new to write after loading"
    assert kept.new(TrainConfig(), feature_handle="h", dataset_name="d", dataset_key="k").number == 4
    kept.runs[0].export_folder = "/exports/flowers-run-1"  # Exported after the restart: written again.
    assert kept.save(path) and RunBook.load(path).runs[0].export_folder == "/exports/flowers-run-1"
    assert RunBook.load(path).runs[1].export_folder is None


def test_a_damaged_runs_file_loses_only_what_is_damaged(tmp_path):
    import json
    path = tmp_path / "runs.json"
    assert RunBook.load(path).runs == []  # No file: a desk's first start.
    path.write_text("{not json", encoding="utf-8")
    assert RunBook.load(path).runs == []
    book = RunBook()
    finished_run(book)
    finished_run(book)
    book.save(path)
    records = json.loads(path.read_text(encoding="utf-8"))
    records[0]["evaluation"]["true"] = [0, 7, 1]  # A class that does not exist.
    records.append({"number": 9, "status": "training"})  # Half a record: never trusted.
    path.write_text(json.dumps(records), encoding="utf-8")
    assert [r.number for r in RunBook.load(path).runs] == [2]


class Weights:
    """Stands in for a trained model in this TensorFlow-free module: what :meth:`RunBook.save` asks of one."""

    def __init__(self, labels, weights):
        import uuid
        self.labels, self.weights, self.uid = tuple(labels), weights, uuid.uuid4().hex

    def learned_weights(self):
        return self.weights


def test_the_models_of_the_newest_runs_are_kept_on_disk_and_let_go_with_them(tmp_path):
    """Fine-tuned networks (about 15 MB each on disk): beyond the newest ``keep_networks``, the file goes with
    the model."""
    import numpy as np

    from hubdemo.runs import model_file
    book = RunBook(keep_models=2, keep_networks=1)
    path = tmp_path / "desk" / "runs.json"
    first = finished_run(book, fine_tune=True)
    first.model = Weights(["daisy", "玫瑰 🌹"],
                          [np.arange(6, dtype=np.float32).reshape(3, 2), np.ones(2, np.float32)])
    assert book.save(path) and model_file(path, 1).exists()
    seen = []

    def rebuild(run, class_names, weights):
        seen.append(run.number)
        return Weights(class_names, weights)

    kept = RunBook.load(path, rebuild=rebuild)
    assert seen == [1] and kept.runs[0].model.labels == ("daisy", "玫瑰 🌹")
    assert [w.tolist() for w in kept.runs[0].model.weights] == [[[0, 1], [2, 3], [4, 5]], [1, 1]]
    assert not kept.save(path), "nothing new to write after loading"

    second = finished_run(book, fine_tune=True)
    second.model = Weights(["a", "b"], [np.zeros(2, np.float32)])
    book.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1")  # Run 1 lets go.
    assert first.model is None and book.save(path)
    assert sorted(p.name for p in path.parent.glob("run-*")) == ["run-2.weights.npz"], "its file goes with it"
    assert [r.model is not None for r in RunBook.load(path, rebuild=rebuild).runs] == [False, True, False]

    model_file(path, 2).write_bytes(b"PK not really")  # Damaged: the run comes back without its model.
    assert [r.number for r in RunBook.load(path, rebuild=rebuild).runs if r.model is None] == [1, 2, 3]

    model_file(path, 2).unlink()
    book._saved, book._written = (), {}  # Written again, as after the next finished run.
    assert book.save(path) and model_file(path, 2).exists()

    def refuses(run, class_names, weights):  # As a model built again with other classes would.
        raise ValueError("Layer weight shape (1280, 5) not compatible with provided weight shape (1280, 3)")
    assert [r.model for r in RunBook.load(path, rebuild=refuses).runs] == [None, None, None]


def test_a_new_last_layers_weights_stay_on_disk_and_its_model_comes_back(tmp_path):
    """A head's weights are a few kilobytes: kept after its run let go of its model, which comes back from them,
    one at a time (each model in memory costs megabytes); so are the newest fine-tuned networks'."""
    import numpy as np

    from hubdemo.runs import model_file
    path = tmp_path / "runs.json"
    book = RunBook(keep_models=2, file=path)
    made = []

    def rebuild(run, class_names, weights):
        made.append(run.number)
        return Weights(class_names, weights)
    heads = []
    for n in range(1, 5):
        heads.append(finished_run(book))
        heads[-1].model = Weights([f"class {n}", "other"], [np.full(3, n, np.float32)])
        book.save(path)
    tuned = finished_run(book, fine_tune=True)
    tuned.model = Weights(["a", "b"], [np.zeros(2, np.float32)])
    finished_run(book).model = Weights(["c", "d"], [np.ones(2, np.float32)])
    book.save(path)
    assert [r.model is not None for r in book.runs] == [False, False, False, False, True, True]
    assert sorted(p.name for p in tmp_path.glob("run-*")) == [f"run-{n}.weights.npz" for n in range(1, 7)]
    assert [book.can_bring_back(r) for r in heads] == [True] * 4

    assert book.bring_back(heads[0], rebuild) and made == [1]
    assert heads[0].model.labels == ("class 1", "other") and heads[0].model.weights[0].tolist() == [1, 1, 1]
    assert book.bring_back(heads[2], rebuild) and heads[0].model is None, "one brought back at a time"
    assert [r.number for r in book.with_models()] == [6, 5, 3]
    written = model_file(path, 3).stat().st_mtime_ns
    assert book.save(path) and model_file(path, 3).stat().st_mtime_ns == written, "not written again"
    assert model_file(path, 1).exists(), "its weights stay when it lets go again"

    book.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1")  # Run 5 lets go.
    book.save(path)
    assert tuned.model is None and book.can_bring_back(tuned), "the newest fine-tuned networks' files stay"

    model_file(path, 2).write_bytes(b"PK not really")
    assert not book.bring_back(heads[1], rebuild) and heads[1].model is None

    made.clear()
    kept = RunBook.load(path, keep_models=2, rebuild=rebuild)
    assert made == [6], "after a restart only the newest runs' models are made again (7 is unfinished)"
    assert kept.can_bring_back(kept.get(4)) and kept.bring_back(kept.get(4), rebuild)


def test_a_run_numbered_as_a_lost_one_never_takes_its_weights(tmp_path):
    """Run 2's record is lost (a damaged file), its weights are not: the next run, numbered 2, keeps its own."""
    import json

    import numpy as np

    from hubdemo.runs import model_file
    book, path = RunBook(), tmp_path / "runs.json"
    for n in (1, 2):
        finished_run(book).model = Weights(["old"] * 2, [np.full(2, n, np.float32)])
    book.save(path)
    path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8"))[:1]), encoding="utf-8")
    kept = RunBook.load(path, rebuild=lambda run, names, weights: Weights(names, weights))
    assert [r.number for r in kept.runs] == [1]
    new = finished_run(kept)
    new.model = Weights(["new", "newer"], [np.zeros(2, np.float32)])
    assert new.number == 2 and kept.save(path)
    with np.load(model_file(path, 2)) as file:
        assert list(file["class_names"]) == ["new", "newer"] and file["w0"].tolist() == [0, 0]


def test_a_run_training_when_the_app_stopped_comes_back_saying_it_did_not_finish(tmp_path):
    book, path = RunBook(), tmp_path / "runs.json"
    finished_run(book)
    run = book.new(TrainConfig(epochs=5), feature_handle="h", dataset_name="flowers", dataset_key="k1")
    run.set_status("training")
    assert book.save(path), "a run is written as it starts"
    run.begin_epoch(0, 3)
    run.record_batch(0, 1.5, 0.25)
    assert not book.save(path), "not at every step"
    # The app stops here: the training thread dies with it.
    kept = RunBook.load(path)
    again = kept.get(2)
    assert (again.status, again.running, again.config.epochs, again.evaluation) == ("error", False, 5, None)
    assert again.snapshot().message.startswith("The app stopped before this run finished")
    assert kept.get(1).status == "done"
    assert kept.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1").number == 3


def test_a_run_that_ends_is_written_at_once_not_when_its_page_next_runs(tmp_path):
    """Its tab may be closed, then the app stop: a run that finished meanwhile must not come back as interrupted."""
    import numpy as np

    from hubdemo.runs import model_file
    import shutil
    path = tmp_path / "desk" / "runs.json"
    book = RunBook(file=path)
    run = book.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1")
    run.set_status("training")
    assert book.save(path), "the page writes it as it starts"
    run.record_batch(0, 1.0, 0.5)
    run.model = Weights(["a", "b"], [np.ones(2, np.float32)])
    run.set_status("done")  # As the training thread ends it: no page involved.
    kept = RunBook.load(path, rebuild=lambda run, names, weights: Weights(names, weights))
    assert kept.get(1).status == "done" and kept.get(1).model.labels == ("a", "b")
    assert model_file(path, 1).exists() and kept.file == path
    other = RunBook()  # A book that keeps itself nowhere (a comparison's, the command line's) writes nothing.
    other.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1").set_status("done")
    assert [p.name for p in tmp_path.iterdir()] == ["desk"]
    shutil.rmtree(path.parent)  # The desk was let go, files and all, while its last run trained on.
    book.new(TrainConfig(), feature_handle="h", dataset_name="flowers", dataset_key="k1").set_status("done")
    assert not path.parent.exists(), "nothing written back into a folder that is gone"


def test_only_the_newest_whole_networks_keep_their_weights_on_disk(tmp_path):
    """About 15 MB each: a desk keeps the newest ``keep_networks`` (fine-tuned or from scratch), whatever the
    heads trained between them; an older one's file goes, and its run keeps its numbers without a model."""
    import numpy as np

    from hubdemo.runs import model_file
    path = tmp_path / "runs.json"
    book = RunBook(keep_models=1, file=path, keep_networks=2)
    made = []

    def rebuild(run, class_names, weights):
        made.append(run.number)
        return Weights(class_names, weights)
    for n, whole in enumerate([True, False, True, False, True, False], start=1):
        run = finished_run(book, fine_tune=whole)
        run.model = Weights(["a", "b"], [np.full(2, n, np.float32)])
        book.save(path)
    assert sorted(p.name for p in tmp_path.glob("run-*")) == [f"run-{n}.weights.npz" for n in (2, 3, 4, 5, 6)]
    assert [book.can_bring_back(r) for r in book.runs] == [False, True, True, True, True, False]
    assert book.bring_back(book.get(3), rebuild) and made == [3]
    assert book.get(3).model.weights[0].tolist() == [3, 3], "run 3's own fine-tuned weights"
    finished_run(book, from_scratch=True).model = Weights(["a", "b"], [np.full(2, 7, np.float32)])
    book.save(path)
    assert not model_file(path, 3).exists() and model_file(path, 5).exists() and model_file(path, 7).exists()
