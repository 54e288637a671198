"""The feature cache: computed once per photo, kept on disk, and only the newest vectors in memory."""

import numpy as np

from hubdemo import features


def test_memory_holds_only_the_newest_vectors_and_the_rest_come_back_from_disk(extractor, colours_dir, monkeypatch):
    monkeypatch.setattr(features, "MEMORY_VECTORS", 4)
    extractor = features.FeatureExtractor(extractor.handle)  # Its own memory, empty.
    files = sorted(colours_dir.rglob("*.png"))[:10]
    first, skipped = extractor.extract(files)
    assert not skipped and len(extractor._memory) <= 4
    again, _ = extractor.extract(files)  # Six of them from disk now.
    np.testing.assert_array_equal(again, first)
    assert len(extractor._memory) <= 4


def test_caching_gathers_nothing_and_gather_reads_back_what_extract_gives(extractor, colours_dir, monkeypatch):
    monkeypatch.setattr(features, "MEMORY_VECTORS", 4)
    fresh = features.FeatureExtractor(extractor.handle)
    files = sorted(colours_dir.rglob("*.png"))[:10] + [colours_dir / "missing.png"]
    keys, skipped = fresh.cache(files)
    assert list(skipped) == [10] and keys[10] == "" and len(fresh._memory) <= 4
    expected, _ = extractor.extract(files)
    np.testing.assert_array_equal(fresh.gather(files, keys), expected)
    fresh._disk_path(keys[0]).write_bytes(b"damaged")  # A lost entry is computed again, not returned as zeros.
    fresh._memory.clear()
    np.testing.assert_allclose(fresh.gather(files[:1], keys[:1]), expected[:1], atol=1e-6)


def streamed_run(extractor, colours_dir, monkeypatch):
    """Train on the colours as if they were beyond memory; returns the dataset, the model and gather's calls."""
    from hubdemo import datasets, runs, training
    monkeypatch.setattr(training, "STREAM_ABOVE", 20)
    monkeypatch.setattr(training, "STREAM_BATCH", 5)  # Validation and evaluation in several chunks, too.
    monkeypatch.setattr(features, "PACK_CHUNK", 8)

    def whole(*args, **kwargs):
        raise AssertionError("the whole dataset's features were gathered in memory")
    monkeypatch.setattr(extractor, "extract", whole)
    data = datasets.load_folder(colours_dir)
    gathered = []
    real_gather = extractor.gather
    monkeypatch.setattr(extractor, "gather", lambda files, keys: gathered.append(len(keys)) or real_gather(files, keys))
    for rate in (0.01, 0.02):  # A second run with other settings, as a class would.
        run = runs.Run(runs.TrainConfig(epochs=3, batch_size=8, learning_rate=rate), feature_handle=extractor.handle,
                       dataset_name=data.name, dataset_key=data.fingerprint)
        trained = training.train(data, run, extractor)
        assert len(data) == 36 and run.snapshot().status == "done" and run.evaluation.accuracy == 1.0
    return data, trained, gathered


def test_a_dataset_beyond_memory_trains_on_features_packed_once_on_disk(extractor, colours_dir, monkeypatch):
    from hubdemo import training
    for old in (extractor._disk / "packed").glob("*.npy"):
        old.unlink()  # As on a first run.
    data, trained, gathered = streamed_run(extractor, colours_dir, monkeypatch)
    assert max(gathered) <= 8 and sum(gathered) == 36, "each photo's vector read once, to pack; both runs use the pack"
    assert len(list((extractor._disk / "packed").glob("*.npy"))) == 1
    monkeypatch.undo()
    monkeypatch.setattr(training, "STREAM_BATCH", 5)
    probs, skipped = trained.file_probabilities(data.files)  # In chunks of 5, the same as in one go.
    np.testing.assert_allclose(probs, trained.head(extractor.extract(data.files)[0]).numpy(), atol=1e-6)


def test_without_room_for_the_pack_features_stream_from_the_cache_a_batch_at_a_time(extractor, colours_dir, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")
    for old in (extractor._disk / "packed").glob("*.npy"):
        old.unlink()
    monkeypatch.setattr(np.lib.format, "open_memmap", full_disk)
    data, trained, gathered = streamed_run(extractor, colours_dir, monkeypatch)
    assert max(gathered) <= 8 and sum(gathered) >= 2 * 3 * 28, "a batch at a time, every epoch of both runs"
    assert not list((extractor._disk / "packed").glob("*")), "no half-written pack left behind"


def test_only_the_newest_packs_are_kept(extractor, colours_dir, monkeypatch):
    fresh = features.FeatureExtractor(extractor.handle)
    files = sorted(colours_dir.rglob("*.png"))
    keys, _ = fresh.cache(files)
    for old in (fresh._disk / "packed").glob("*.npy"):
        old.unlink()
    for count in (10, 20, 30):  # Three datasets, one after the other.
        rows = fresh.packed(files[:count], keys[:count])
        np.testing.assert_array_equal(rows, fresh.gather(files[:count], keys[:count]))
    assert len(list((fresh._disk / "packed").glob("*.npy"))) == features.PACKS_KEPT
    import os
    stale = fresh._disk / "packed" / "abandoned.123.tmp"  # A process that died packing.
    stale.write_bytes(b"half a pack")
    os.utime(stale, (0, 0))
    fresh.packed(files[:5], keys[:5])
    assert not stale.exists(), "cleaned once it is old"
    assert fresh.packed(files[:30], keys[:30]).shape == (30, fresh.dim), "the newest is there to reuse"


def test_the_disk_cache_is_bounded_and_keeps_what_was_used_last(tmp_path):
    import os
    root = tmp_path / "features"
    vector = np.zeros(1280, np.float32)
    paths = []
    for i in range(20):  # 20 vectors of about 5 KB, oldest first.
        path = root / ("model_a" if i % 2 else "model_b") / f"{i:02d}" / f"{i:02d}{'0' * 38}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vector)
        os.utime(path, (1000 + i, 1000 + i))
        paths.append(path)
    pack = root / "model_a" / "packed" / "p.npy"
    pack.parent.mkdir(parents=True)
    np.save(pack, np.zeros((100, 1280), np.float32))
    size = paths[0].stat().st_size
    assert features.prune(root, limit=30 * size) == 0, "under the limit: nothing goes"
    removed = features.prune(root, limit=10 * size)
    kept = [p for p in paths if p.exists()]
    assert removed == 12 and kept == paths[12:], "down to 80% of the limit, the least recently used first"
    assert pack.exists(), "packs have their own bound"


def test_writing_vectors_keeps_the_cache_within_its_limit_and_lost_ones_come_back(extractor, colours_dir, monkeypatch):
    files = sorted(colours_dir.rglob("*.png"))
    fresh = features.FeatureExtractor(extractor.handle)
    before, _ = fresh.extract(files)
    one = fresh._disk_path(features.content_key(files[0])).stat().st_size
    everything = sum(f.stat().st_size for f in fresh._disk.parent.glob("*/??/*.npy"))
    monkeypatch.setenv("HUBDEMO_FEATURE_CACHE_MB", str((everything - 10 * one) / 2**20))
    monkeypatch.setattr(features, "PRUNE_EVERY", 1)
    threads = []
    real = features._wrote_one
    monkeypatch.setattr(features, "_wrote_one", lambda: threads.append(real()))
    fresh._store("0" * 40, before[0])  # One more vector: the cache is over its limit, and looks.
    for thread in filter(None, threads):
        thread.join(30)
    left = sum(f.stat().st_size for f in fresh._disk.parent.glob("*/??/*.npy"))
    assert left <= features.cache_limit() * 0.8 + one
    again = features.FeatureExtractor(extractor.handle)  # A new process: nothing in memory.
    after, skipped = again.extract(files)
    assert not skipped and np.allclose(after, before, atol=1e-5), "pruned vectors are computed again, the same"
