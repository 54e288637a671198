"""The tf.data pipeline: batches in file order, parallel decode, and a corrupt file skipped and reported."""

import time

import numpy as np

from hubdemo import grid, pipeline
from make_images import jpeg, png


def pngs_with_one_broken(folder, count: int, broken: int) -> list:
    """``count`` small PNG files of different widths; number ``broken`` has a PNG header and no image."""
    files = [folder / f"{i}.png" for i in range(count)]
    for i, path in enumerate(files):
        path.write_bytes(b"\x89PNG\r\n\x1a\n broken" if i == broken else png(20 + i, 10))
    return files


def test_batches_keep_file_order_and_skip_a_corrupt_file(tmp_path):
    files = pngs_with_one_broken(tmp_path, 7, broken=3)
    skipped = pipeline.SkipLog()
    batches = list(pipeline.image_batches(files, 32, labels=[i % 2 for i in range(7)], batch_size=4,
                                          skipped=skipped))
    indices = np.concatenate([b[2].numpy() for b in batches])
    assert indices.tolist() == [0, 1, 2, 4, 5, 6]
    assert [b[0].shape[0] for b in batches] == [4, 2]
    assert batches[0][0].shape[1:] == (32, 32, 3) and batches[0][0].dtype.name == "float32"
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == [0, 1, 0, 0, 1, 0]
    assert len(skipped.items) == 1 and skipped.items[0][0] == 3 and "3.png" in skipped.items[0][1]


def test_decoded_batches_keep_order_and_skip_a_corrupt_file(tmp_path):
    files = pngs_with_one_broken(tmp_path, 7, broken=5)
    skipped = pipeline.SkipLog()
    batches = list(pipeline.decoded_batches(files, 32, batch_size=3, skipped=skipped))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4], [6]]
    assert batches[0][0].shape == (3, 32, 32, 3) and batches[0][0].dtype == np.float32
    assert 0.0 <= batches[0][0].min() and batches[0][0].max() <= 1.0
    assert [i for i, _ in skipped.items] == [5]


def test_stopping_early_drops_the_decoding_queued_ahead(tmp_path, monkeypatch):
    files = [tmp_path / f"{i}.png" for i in range(60)]
    for f in files:
        f.write_bytes(png(16, 16))
    decoded = []
    real = pipeline.images.load_pixels

    def slow_decode(*args):  # Slow enough that most of the queue is still waiting at close().
        time.sleep(0.05)
        decoded.append(1)
        return real(*args)

    monkeypatch.setattr(pipeline.images, "load_pixels", slow_decode)
    batches = pipeline.decoded_batches(files, 16, batch_size=3, ahead=10)
    next(batches)
    batches.close()  # As FeatureExtractor.extract does when Stop is pressed.
    pipeline.DECODER_POOL.submit(lambda: None).result()  # Queued work done or dropped by now.
    assert 3 <= len(decoded) <= 3 + 2 * pipeline.DECODER_POOL._max_workers, "33 were queued"


def test_both_pipelines_give_the_same_pixels(tmp_path):
    files = [tmp_path / f"{i}.jpg" for i in range(4)]
    for i, f in enumerate(files):
        f.write_bytes(jpeg(40 + 10 * i, 30))
    (tf_images, _, _), = list(pipeline.image_batches(files, 24))
    (np_images, _), = list(pipeline.decoded_batches(files, 24))
    np.testing.assert_array_equal(tf_images.numpy(), np_images)


def test_a_file_deleted_before_its_turn_is_skipped_too(tmp_path):
    files = [tmp_path / "a.jpg", tmp_path / "gone.jpg"]
    files[0].write_bytes(jpeg())
    skipped = pipeline.SkipLog()
    batches = list(pipeline.image_batches(files, 16, skipped=skipped))
    assert sum(b[0].shape[0] for b in batches) == 1 and skipped.items[0][0] == 1


def test_classify_paths_reports_the_corrupt_file_in_place(classifier, tmp_path):
    files = [tmp_path / "a.jpg", tmp_path / "bad.jpg", tmp_path / "c.jpg"]
    files[0].write_bytes(jpeg())
    files[1].write_bytes(b"\xff\xd8\xff broken")
    files[2].write_bytes(jpeg())
    results = classifier.classify_paths(files)
    assert [r.name for r in results] == ["a.jpg", "bad.jpg", "c.jpg"]
    assert results[1].error and not results[1].predictions
    assert results[0].predictions == results[2].predictions and len(results[0].predictions) == 5


def test_grid_batches_cover_the_dataset_and_shuffle_reproducibly():
    labels = [0] * 40 + [1] * 20 + [2] * 5  # A folder's order: one class after another.
    order = grid.order(labels, None)
    assert grid.num_batches(65) == 3
    assert sorted(order.tolist()) == list(range(65))
    first = grid.batch(order, 0).tolist()
    assert first[:6] == [0, 40, 60, 1, 41, 61], "the classes in turn, each in its folder order"
    assert {labels[i] for i in first} == {0, 1, 2}, "the first batch shows every class"
    assert grid.batch(order, 2).tolist() == list(range(35, 40)), "the biggest class's last photos come last"
    assert grid.batch(order, 3).tolist() == first, "wraps around"
    shuffled = grid.order(labels, 1)
    assert np.array_equal(shuffled, grid.order(labels, 1)) and not np.array_equal(shuffled, order)
    assert sorted(shuffled.tolist()) == list(range(65))
