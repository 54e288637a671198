"""Training in worker processes: the same result as in the server's process, a queue, and crashes kept inside."""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hubdemo import datasets, model_safety, runs, trainers, training
from hubdemo import scratch as hubdemo_scratch
from hubdemo.errors import HubDemoError


def wait_until_finished(*runs_, timeout=240):
    deadline = time.monotonic() + timeout
    while any(r.running for r in runs_):
        assert time.monotonic() < deadline, [r.snapshot().progress_text() for r in runs_]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def pool():
    pool = trainers.TrainerPool(slots=1)
    yield pool
    pool.close()


def new_run(data, extractor, **settings):
    return runs.RunBook().new(runs.TrainConfig(**{"epochs": 3, "batch_size": 8, "learning_rate": 0.01, **settings}),
                              feature_handle=extractor.handle, dataset_name=data.name, dataset_key=data.fingerprint)


def test_a_worker_trains_the_same_model_as_the_server_would_and_the_queue_waits_its_turn(
        pool, colours_dir, extractor, colours_run):
    data = datasets.load_folder(colours_dir)
    first, second = new_run(data, extractor), new_run(data, extractor, learning_rate=0.001)
    pool.submit(data, first, extractor)
    pool.submit(data, second, extractor)
    assert second.status == "queued" and "1 of 1 in the queue" in second.snapshot().progress_text()
    wait_until_finished(first, second)
    assert (first.status, second.status) == ("done", "done"), (first.snapshot().message, second.snapshot().message)
    assert first.evaluation.accuracy == colours_run.evaluation.accuracy == 1.0
    assert len(first.snapshot().epochs) == 3 and first.snapshot().batches, "progress came back over the pipe"
    # The model rebuilt in this process from the worker's weights predicts like the one trained here.
    ours, _ = colours_run.model.file_probabilities(data.files[:6])
    theirs, _ = first.model.file_probabilities(data.files[:6])
    assert np.abs(ours - theirs).max() < 1e-5
    assert first.model.cam_weights is not None, "heatmaps work on a worker's model too"
    assert pool.workers() and all(pid != 0 for pid in pool.workers())


def test_a_queued_run_can_be_cancelled_and_a_bad_setting_is_reported(pool, colours_dir, extractor):
    data = datasets.load_folder(colours_dir)
    busy, waiting = new_run(data, extractor, epochs=40, batch_size=1), new_run(data, extractor)
    pool.submit(data, busy, extractor)
    pool.submit(data, waiting, extractor)
    waiting.stop()
    assert waiting.status == "stopped" and "Cancelled while waiting" in waiting.snapshot().message
    busy.stop()
    wait_until_finished(busy)
    assert busy.status in ("stopped", "done")
    scratch = runs.RunBook().new(runs.TrainConfig(from_scratch=True), feature_handle="https://example.invalid/x",
                                 dataset_name=data.name, dataset_key=data.fingerprint)
    pool.submit(data, scratch)
    wait_until_finished(scratch)
    assert scratch.status == "error" and "bundled EfficientNet-Lite networks" in scratch.snapshot().message


def test_a_killed_worker_fails_only_its_own_run(pool, colours_dir, extractor):
    data = datasets.load_folder(colours_dir)
    doomed = new_run(data, extractor, epochs=200, batch_size=1)
    pool.submit(data, doomed, extractor)
    deadline = time.monotonic() + 120
    while doomed.status != "training":
        assert time.monotonic() < deadline, (doomed.status, doomed.snapshot().message)
        time.sleep(0.1)
    # TensorFlow's autograph writes its converted functions as files into the worker's temp folder: the worker's
    # own scratch folder in the app's cache, never the system's /tmp, where a killed worker would leave them.
    (scratch,) = [w.scratch for w in pool._busy]
    assert scratch.parent == hubdemo_scratch.root()
    assert list(scratch.glob("__autograph_generated_file*.py")), "the worker's temp folder is its scratch folder"
    for pid in pool.workers():
        os.kill(pid, signal.SIGKILL)
    wait_until_finished(doomed, timeout=30)
    assert doomed.status == "error"
    assert "killed (most often: the computer ran out of memory)" in doomed.snapshot().message
    assert not scratch.exists(), "a killed worker's files go with it"
    after = new_run(data, extractor)
    pool.submit(data, after, extractor)  # A new worker takes over.
    wait_until_finished(after)
    assert after.status == "done" and after.evaluation.accuracy == 1.0


def test_ctrl_c_in_the_teachers_terminal_leaves_stopping_the_workers_to_the_server(colours_dir, extractor, capfd):
    # The terminal's Ctrl+C signals every process of the app: a worker must not die on it with a traceback
    # in the teacher's terminal; the server, stopping, closes its workers itself.
    data = datasets.load_folder(colours_dir)
    own = trainers.TrainerPool(slots=1)  # Its own worker, so that this test reads what the worker writes.
    try:
        first = own.submit(data, new_run(data, extractor), extractor)
        wait_until_finished(first)
        (pid,) = own.workers()
        os.kill(pid, signal.SIGINT)
        second = own.submit(data, new_run(data, extractor), extractor)
        wait_until_finished(second)
        assert second.status == "done" and own.workers() == [pid], "the same worker trains on"
    finally:
        own.close()
    assert "Traceback" not in capfd.readouterr().err


def test_scratch_folders_of_a_server_that_is_gone_are_swept_when_a_pool_starts():
    root = hubdemo_scratch.root()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone, ours = root / f"{dead.pid}-x1", root / f"{os.getpid()}-x2"
    for folder in (gone, ours):
        folder.mkdir(parents=True)
        (folder / "__autograph_generated_file1.py").write_text("pass")
    trainers.TrainerPool(slots=1)
    assert not gone.exists() and ours.exists(), "a live server's workers keep theirs"
    shutil.rmtree(ours)


def test_an_export_that_could_touch_files_is_refused_before_it_loads(tmp_path, colours_export):
    from hubdemo.tf import tf

    class Sneaky(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 224, 224, 3])])
        def __call__(self, images):
            tf.io.write_file(str(tmp_path / "written.txt"), "hello")
            return tf.reduce_mean(images, axis=[1, 2])

    tf.saved_model.save(Sneaky(), str(tmp_path / "sneaky"))
    assert any(op.startswith("WriteFile") for op in model_safety.unsafe_ops(tmp_path / "sneaky"))
    with pytest.raises(HubDemoError, match="could read or write files or run code"):
        model_safety.check(tmp_path / "sneaky", "sneaky.zip")
    assert not (tmp_path / "written.txt").exists()
    folder, _ = colours_export
    assert model_safety.unsafe_ops(folder) == [], "the app's own exports pass"


@pytest.fixture(scope="module")
def augmented_run(colours_dir, extractor):
    """A finished run that trained the whole network's path (augmented photos: no cached features)."""
    data = datasets.load_folder(colours_dir)
    run = new_run(data, extractor, epochs=1, augment=True)
    training.train(data, run, extractor)
    return run


def test_worker_and_server_share_one_rebuild_for_every_training_path(colours_dir, extractor, augmented_run):
    data = datasets.load_folder(colours_dir)
    run, trained = augmented_run, augmented_run.model
    again = training.rebuild(run, data.class_names, trained.learned_weights(), extractor)
    images = np.random.default_rng(0).random((2, 224, 224, 3), dtype=np.float32)
    assert np.abs(trained.model(images).numpy() - again.model(images).numpy()).max() < 1e-6


def through_a_restart(run, tmp_path, extractor):
    """``run`` kept in a RunBook's files, then read back as a restarted app does: the run it gives back."""
    book = runs.RunBook()
    book.runs.append(run)
    path = tmp_path / "runs.json"
    assert book.save(path)

    def rebuild(run, class_names, weights):
        return training.rebuild(run, class_names, weights, extractor if run.config.uses_cached_features else None)
    (again,) = runs.RunBook.load(path, rebuild=rebuild).runs
    return again


@pytest.mark.parametrize("whole", [False, True], ids=["head on features", "whole network"])
def test_a_restart_gives_back_the_same_model(whole, colours_dir, extractor, colours_run, augmented_run, tmp_path):
    """Head on cached features (a few kilobytes kept) or the whole network (its every weight): the same answers."""
    data = datasets.load_folder(colours_dir)
    run = augmented_run if whole else colours_run
    again = through_a_restart(run, tmp_path, extractor)
    assert again.model.labels == run.model.labels == tuple(data.class_names)
    images = np.random.default_rng(0).random((3, 224, 224, 3), dtype=np.float32)
    assert np.abs(run.model.model(images).numpy() - again.model.model(images).numpy()).max() < 1e-6
    photos = data.files[:4]
    assert np.abs(run.model.file_probabilities(photos)[0] - again.model.file_probabilities(photos)[0]).max() < 1e-6
    assert again.model.cam_network == run.model.cam_network, "Grad-CAM looks inside it as before"
    (kept,) = tmp_path.glob("run-*.weights.npz")
    assert kept.stat().st_size < (30_000_000 if whole else 20_000)
