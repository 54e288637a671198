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
