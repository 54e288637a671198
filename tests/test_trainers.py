"""Training in worker processes: the same result as in the server's process, a queue, and crashes kept inside."""

import signal
import time

import numpy as np
import pytest

from hubdemo import datasets, model_safety, runs, trainers, training
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
    import os
    for pid in pool.workers():
        os.kill(pid, signal.SIGKILL)
    wait_until_finished(doomed, timeout=30)
    assert doomed.status == "error"
    assert "killed (most often: the computer ran out of memory)" in doomed.snapshot().message
    after = new_run(data, extractor)
    pool.submit(data, after, extractor)  # A new worker takes over.
    wait_until_finished(after)
    assert after.status == "done" and after.evaluation.accuracy == 1.0


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


def test_worker_and_server_share_one_rebuild_for_every_training_path(colours_dir, extractor):
    data = datasets.load_folder(colours_dir)
    run = new_run(data, extractor, epochs=1, augment=True)
    trained = training.train(data, run, extractor)
    again = training.rebuild(run, data.class_names, training.learned_weights(trained), extractor)
    images = np.random.default_rng(0).random((2, 224, 224, 3), dtype=np.float32)
    assert np.abs(trained.model(images).numpy() - again.model(images).numpy()).max() < 1e-6
