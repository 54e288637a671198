"""Dataset sources all yield the same Dataset; unusable ones get clear messages; the split is stratified."""

import io
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from hubdemo import datasets, paths
from hubdemo.errors import HubDemoError
from make_images import encode, jpeg, png, zip_of


def make_folder(root, layout: dict[str, int], extra: dict[str, bytes] = {}):  # noqa: B006
    for class_name, count in layout.items():
        (root / class_name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (root / class_name / f"{i}.jpg").write_bytes(jpeg())
    for name, data in extra.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_folder_gives_classes_files_counts_and_skipped_reasons(tmp_path):
    root = make_folder(tmp_path / "pets", {"cat": 3, "dog": 4}, extra={
        "cat/notes.txt": b"hello", "dog/empty.jpg": b"", "dog/nested/deeper.png": png(),
        "dog/.DS_Store": b"junk", "README.md": b"about"})
    data = datasets.load_folder(root)
    assert data.class_names == ("cat", "dog")
    assert data.counts == {"cat": 3, "dog": 5}
    assert len(data.files) == len(data.labels) == 8
    assert {s.file: s.reason for s in data.skipped} == {
        "README.md": "not inside a class folder", "cat/notes.txt": "not an image", "dog/empty.jpg": "empty file"}
    assert data.warnings == ()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_huge_photos_and_decompression_bombs_are_skipped_with_a_reason_by_the_app_and_the_notebook(tmp_path):
    def huge(side_x, side_y):  # Tens or hundreds of megapixels of one colour: a few kB on disk.
        return encode(Image.new("1", (side_x, side_y)), "PNG")
    root = make_folder(tmp_path / "pets", {"cat": 2, "dog": 2}, extra={
        "cat/poster.png": huge(9_000, 8_000), "dog/bomb.png": huge(20_000, 10_000)})
    data = datasets.load_folder(root)  # Pillow refuses the 200-megapixel file outright; it must not stop the rest.
    assert data.counts == {"cat": 2, "dog": 2}
    assert {s.file: s.reason for s in data.skipped} == {
        "cat/poster.png": "too large (72 megapixels)", "dog/bomb.png": "too large to open safely"}
    from hubdemo import notebook
    scope = {"pathlib": __import__("pathlib"), "np": np, "Image": Image}
    exec(notebook.dataset_code(root), scope)  # The notebook reads the same photos the app does.
    assert [str(f) for f in scope["files"]] == [str(f) for f in data.files]


def test_photos_are_known_by_their_extension_or_first_bytes_and_other_files_are_not_opened(tmp_path, monkeypatch):
    """A folder typed by mistake (a home folder: 100,000s of files) is not opened file by file: Pillow tries a
    dozen formats on each. A photo without its extension is still a photo, for the app and the notebook."""
    root = make_folder(tmp_path / "pets", {"cat": 2, "dog": 2}, extra={
        "cat/IMG_0001": jpeg(), "dog/scan": png(), "dog/shot.heic.download": encode(Image.new("RGB", (8, 8)), "WEBP"),
        **{f"cat/notes/{i}.txt": b"not a photo" for i in range(50)}, "dog/photo.jpg.txt": jpeg()})
    opened = []
    real_open = datasets.Image.open
    monkeypatch.setattr(datasets.Image, "open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    data = datasets.load_folder(root)
    monkeypatch.undo()
    assert data.counts == {"cat": 3, "dog": 5}, "the photos without an image extension are found by their bytes"
    assert not [p for p in opened if str(p).endswith(".txt") and "notes" in str(p)], "the notes were not opened"
    assert sum(s.reason == "not an image" for s in data.skipped) == 50
    from hubdemo import notebook
    scope = {"pathlib": __import__("pathlib"), "np": np, "Image": Image}
    exec(notebook.dataset_code(root), scope)  # The notebook reads the same photos the app does.
    assert [str(f) for f in scope["files"]] == [str(f) for f in data.files]


def test_a_single_top_folder_is_stepped_into(tmp_path):
    make_folder(tmp_path / "outer" / "flowers", {"daisy": 2, "roses": 2})
    assert datasets.load_folder(tmp_path / "outer").class_names == ("daisy", "roses")


@pytest.mark.parametrize("layout, message", [
    ({}, "no class folders"),
    ({"cat": 5}, "only one class"),
    ({"cat": 5, "dog": 1}, r"at least 2 images.*dog \(1\)"),
    ({"cat": 0, "dog": 0}, r"None of the 2 subfolders of '.*d' holds a photo. Choose the folder whose subfolders"),
    ({"a": 0, "b": 2, **{f"c{i}": 1 for i in range(8)}}, r"Too few in: a \(0\), c0 \(1\), c1 \(1\), c2 \(1\), "
                                                         r"c3 \(1\), 4 more\.$"),  # Not all 9 of them.
])
def test_unusable_datasets_are_explained(tmp_path, layout, message):
    root = make_folder(tmp_path / "d", layout)
    root.mkdir(exist_ok=True)
    with pytest.raises(HubDemoError, match=message):
        datasets.load_folder(root)


def test_missing_folder_is_explained(tmp_path):
    with pytest.raises(HubDemoError, match="No folder at"):
        datasets.load_folder(tmp_path / "nope")


def test_strong_imbalance_gets_a_warning(tmp_path):
    data = datasets.load_folder(make_folder(tmp_path / "d", {"cat": 12, "dog": 3}))
    assert len(data.warnings) == 1 and "'cat' has 12 images and 'dog' only 3" in data.warnings[0]


def test_uploaded_zip_is_extracted_into_the_workspace_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    data = zip_of({"pets/cat/1.jpg": jpeg(), "pets/cat/2.jpg": jpeg(), "pets/dog/1.jpg": jpeg(),
                      "pets/dog/2.jpg": jpeg(), "__MACOSX/pets/._x": b"junk"})
    first = datasets.load_zip(data, name="pets.zip")
    again = datasets.load_zip(data, name="pets.zip")
    assert first.counts == {"cat": 2, "dog": 2} and first.name == "pets"
    assert first.root == again.root and paths.workspace_dir() in first.root.parents


def test_zip_with_one_class_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    with pytest.raises(HubDemoError, match="only one class"):
        datasets.load_zip(zip_of({"cat/1.jpg": jpeg(), "cat/2.jpg": jpeg()}))


def test_zip_with_an_empty_class_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    with pytest.raises(HubDemoError, match=r"dog \(0\)"):
        datasets.load_zip(zip_of({"cat/1.jpg": jpeg(), "cat/2.jpg": jpeg(), "dog/readme.txt": b"hi"}))


def test_classes_built_in_the_browser_are_written_to_disk_and_round_trip_through_a_zip(tmp_path):
    folder = tmp_path / "built"
    photos = {"thumbs up": [("a.JPG", jpeg()), ("b.png", png())], "thumbs/down!": [("c.jpg", jpeg())] * 3,
              "猫 🐱": [("x.jpg", jpeg()), ("y.webp?", jpeg())]}
    for name, items in photos.items():
        for index, (filename, data) in enumerate(items):
            path = datasets.add_built_photo(folder, name, f"id{index}/../", filename, data)
            assert path.parent.parent == folder and path.read_bytes() == data
    datasets.add_built_photo(folder, "猫 🐱", "id0/../", "x.jpg", b"changed")  # Once per photo id.
    assert (folder / "猫 🐱" / "id0.jpg").read_bytes() == jpeg()
    assert {k: len(v) for k, v in datasets.built_classes(folder).items()} == {
        "thumbs up": 2, "thumbsdown!": 3, "猫 🐱": 2}
    with zipfile.ZipFile(io.BytesIO(datasets.build_zip(folder))) as z:
        assert sorted(z.namelist()) == ["thumbs up/0000.jpg", "thumbs up/0001.png", "thumbsdown!/0000.jpg",
                                        "thumbsdown!/0001.jpg", "thumbsdown!/0002.jpg", "猫 🐱/0000.jpg",
                                        "猫 🐱/0001.jpg"]
    # A recorded photo keeps its recording in the zip (a class project's too): uploaded again, it splits as here.
    recorded = tmp_path / "recorded"
    for photo_id in ("live-1234-007", "desk1_live-1234-008"):
        datasets.add_built_photo(recorded, "wave", photo_id, "live.jpg", jpeg())
    with zipfile.ZipFile(io.BytesIO(datasets.build_zip(recorded))) as z:
        names = sorted(z.namelist())
    assert [n[:10] for n in names] == ["wave/0000_", "wave/0001_"]
    assert sorted(n[10:] for n in names) == ["live-1234-007.jpg", "live-1234-008.jpg"]
    data = datasets.load_built(folder, name="gestures")
    assert data.name == "gestures" and data.counts == {"thumbs up": 2, "thumbsdown!": 3, "猫 🐱": 2}
    with pytest.raises(HubDemoError, match="cannot be a class name"):
        datasets.clean_class_name(" ../ ")


def test_built_in_digits_are_real_scans_as_dark_ink_on_light(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    data = datasets.load_digits_dataset()
    assert data.class_names == tuple(str(d) for d in range(10))
    assert len(data) == 1797 and min(data.counts.values()) >= 170
    pixels = np.asarray(Image.open(data.files[0]))
    assert pixels.shape == (64, 64) and np.median(pixels) > 200 and pixels.min() < 60
    assert "scikit-learn" in data.credit


def test_flowers_download_extracts_the_archive_with_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path / "cache"))
    archive = tmp_path / "flower_photos.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("flower_photos/daisy/1.jpg", "flower_photos/daisy/2.jpg",
                     "flower_photos/roses/1.jpg", "flower_photos/roses/2.jpg"):
            payload = jpeg()
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        info = tarfile.TarInfo("flower_photos/LICENSE.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"CC-BY"))
    seen = []
    data = datasets.load_flowers(progress=lambda done, total: seen.append((done, total)),
                                 url=archive.as_uri())
    assert data.counts == {"daisy": 2, "roses": 2} and data.name == "TF Flowers"
    assert seen and seen[-1][0] == archive.stat().st_size


def test_flowers_offline_names_the_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBDEMO_CACHE_DIR", str(tmp_path))
    with pytest.raises(HubDemoError, match="Could not download.*built-in handwritten digits"):
        datasets.load_flowers(url="https://storage.invalid/flower_photos.tgz")
    assert not any(tmp_path.rglob("*.tgz*")), "no partial download left behind"


def test_split_is_stratified_and_reproducible(tmp_path):
    data = datasets.load_folder(make_folder(tmp_path / "d", {"a": 10, "b": 20, "c": 2}))
    first, again, other = (datasets.split(data, 0.2, seed=s) for s in (7, 7, 8))
    labels = np.asarray(data.labels)
    assert np.array_equal(first.train, again.train) and np.array_equal(first.validation, again.validation)
    assert not np.array_equal(first.validation, other.validation)
    assert sorted([*first.train, *first.validation]) == list(range(len(data)))
    assert np.bincount(labels[first.validation]).tolist() == [2, 4, 1]


def recorded_dataset(root):
    """Lone photos and live-camera recordings (``live-<time>-<n>``, a class project's with its owner first)."""
    make_folder(root, {"a": 6})
    for class_name, stems in {"a": ["live-1000", "live-2000"], "b": ["abc_live-3000", "abc_live-4000", "x_live-5"],
                              "c": ["live-6000"]}.items():
        (root / class_name).mkdir(exist_ok=True)
        for stem in stems:
            for n in range(10 if class_name != "c" else 8):
                (root / class_name / f"{stem}-{n:03d}.jpg").write_bytes(jpeg())
    return datasets.load_folder(root)


def test_a_recording_stays_whole_on_one_side_of_the_split(tmp_path):
    data = recorded_dataset(tmp_path / "d")
    assert len({datasets.recording(f) for f in data.files} - {None}) == 6
    labels = np.asarray(data.labels)
    for seed in range(5):
        split = datasets.split(data, 0.2, seed)
        assert sorted([*split.train, *split.validation]) == list(range(len(data)))
        side = {i: "validation" for i in split.validation} | {i: "train" for i in split.train}
        sides = {}
        for i, path in enumerate(data.files):
            if datasets.recording(path) and data.class_names[labels[i]] != "c":
                sides.setdefault(datasets.recording(path), set()).add(side[i])
        assert all(len(s) == 1 for s in sides.values()), sides  # No near-copies on both sides.
        held = np.bincount(labels[split.validation], minlength=3).tolist()
        # a: 26 photos, 5 to hold back: the lone photos fill it, a recording of 10 would double it.
        # b: only recordings: one whole. c: one recording, nothing else to hold back: cut (and only then).
        assert held == [5, 10, 2], held
        assert np.bincount(labels[split.train], minlength=3).min() >= 1


def test_validation_warnings_say_when_the_accuracy_means_little(tmp_path):
    data = recorded_dataset(tmp_path / "d")  # 5 + 10 + 2 held back, a class that is one recording.
    small, copies = datasets.validation_warnings(data, datasets.split(data, 0.2))
    assert small.startswith("Only 17 photos are held back for validation (2 in the smallest class)")
    assert copies.startswith("c: one recording from the live camera")
    plenty = datasets.load_folder(make_folder(tmp_path / "e", {"a": 50, "b": 50}))
    assert datasets.validation_warnings(plenty, datasets.split(plenty, 0.2)) == []
    assert datasets.split_words(plenty, datasets.split(plenty, 0.2)) == (
        "80 photos train the new layer; 20 are held back to check it on photos it never trained on (the "
        "validation accuracy).")
    assert datasets.split_words(data, datasets.split(data, 0.2)).endswith(
        "5 recordings from the live camera each stay whole on one side: their photos are near-copies of each "
        "other.")  # Not c's: a class's only recording is cut, and its warning says so.


def test_the_notebooks_split_is_the_apps(tmp_path):
    from hubdemo import notebook
    data = recorded_dataset(tmp_path / "d")
    for seed, fraction in ((0, 0.2), (3, 0.35)):
        scope = {"np": np, "re": __import__("re"), "files": list(data.files), "labels": np.asarray(data.labels),
                 "class_names": list(data.class_names), "SEED": seed, "VALIDATION_SPLIT": fraction}
        exec(notebook.SPLIT, scope)
        split = datasets.split(data, fraction, seed)
        assert scope["val_idx"].tolist() == split.validation.tolist()
        assert scope["train_idx"].tolist() == split.train.tolist()


def test_split_rejects_a_silly_fraction(tmp_path):
    data = datasets.load_folder(make_folder(tmp_path / "d", {"a": 4, "b": 4}))
    with pytest.raises(HubDemoError, match="between 5% and 50%"):
        datasets.split(data, 0.9)


def test_real_flowers_folder(flowers_dir):
    data = datasets.load_source(flowers_dir)
    assert data.counts == {c: 120 for c in ("daisy", "dandelion", "roses", "sunflowers", "tulips")}
