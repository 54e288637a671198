"""UI pieces shared by pages: the dataset picker (every source), its summary, messages and result views.

Widget values vanish when a page stops showing the widget, so what the user
chose is copied into plain session state (``remembered``): going to the
training page and back keeps the dataset.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import streamlit as st

import cached
from hubdemo import charts, datasets, images, models
from hubdemo.errors import HubDemoError

ROUTER = Path(__file__).with_name("streamlit_app.py")
DIGITS = "Handwritten digits (built in, works offline)"
FOLDER = "A folder on this computer"
ZIP = "Upload a .zip"
BUILD = "Build your own (photos or camera)"
FLOWERS = "TF Flowers (the tutorial's; download)"
SOURCES = (DIGITS, FOLDER, ZIP, BUILD, FLOWERS)


def use_router() -> None:
    """Run this page inside streamlit_app.py's frame, even when Streamlit started the page alone.

    With a pages/ folder present Streamlit starts in its legacy multipage mode
    (and AppTest starts every run in it): until the router's st.navigation has
    run, a visit to /grid runs pages/grid.py alone, without the frame, the
    sidebar or the --data option. Then the router is run here, in the same run
    (a rerun would drop the click that caused this one), and it runs this page.
    """
    from streamlit.runtime.pages_manager import PagesManager
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(ROUTER), run_name="__main__")
        st.stop()


def remembered(key: str, default=None, *, options=None) -> dict:
    """Widget arguments that keep its value across pages: ``st.radio(..., **remembered("k"))``.

    Streamlit forgets a widget's value once a page without it has run, so the
    value is copied to a plain key on every change and given back before the
    widget is drawn again. With ``options``, a kept value that is no longer
    among them (a model let go of) falls back to ``default``.
    """
    value = st.session_state.get(f"kept_{key}", default)
    if options is not None and value not in options:
        st.session_state.pop(key, None)
        value = default
    if value is not None:
        st.session_state[key] = value
    return {"key": key, "on_change": _keep, "args": (key,)}


def session_memo(name: str, key, compute):
    """``compute()``'s result, kept in this session under ``name`` while ``key`` stays the same."""
    kept = st.session_state.get(name)
    if kept is None or kept[0] != key:
        kept = st.session_state[name] = (key, compute())
    return kept[1]


def _keep(key: str) -> None:
    st.session_state[f"kept_{key}"] = st.session_state[key]


METHOD_TITLES = {"gradcam": "Grad-CAM", "occlusion": "Occlusion", "integrated-gradients": "Integrated gradients"}
METHODS_HELP = ("**Grad-CAM** reads the network's own 28×28 and 14×14 maps: instant, for the bundled "
                "EfficientNet-Lite0 and models trained on it. **Occlusion** greys one patch at a time and "
                "watches the answer drop: any model, about a second. **Integrated gradients** follows the "
                "gradient from a grey picture to the photo: any model, under a second.")


def plain(text: str) -> str:
    """``text`` shown as written: Markdown's special characters escaped (paths have ``_`` and ``*``).

    Backticks are kept: library messages use them for code, as in "`epochs`".
    """
    return re.sub(r"([\\*_\[\]~$<>|#])", r"\\\1", text)


def show_error(err: Exception | str, where=st) -> None:
    """A library error as one readable message (never a traceback)."""
    where.error(plain(str(err)), icon=":material/error:")


def duration(seconds: float) -> str:
    """``about 40 seconds``, ``about 7 minutes``: how long something will take, in words."""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} seconds"
    return f"about {round(seconds / 60):.0f} minutes"


def count(n: int, noun: str) -> str:
    """``1 photo``, ``10 photos``, ``3 classes``."""
    if n == 1:
        return f"{n:,} {noun}"
    return f"{n:,} {noun}es" if noun.endswith(("s", "x", "ch", "sh")) else f"{n:,} {noun}s"


def classifier_ui(handle: str):
    """The cached ImageNet classifier, with a progress message while it builds or loads; None after an error."""
    return _load_ui(cached.classifier, handle, "the model")


def extractor_ui(handle: str):
    """The cached feature extractor, with a progress message while it builds or loads; None after an error."""
    return _load_ui(cached.extractor, handle, "the feature extractor")


def _load_ui(load, handle: str, what: str):
    message = ("Building EfficientNet-Lite0 from its bundled weights. This happens once, on first "
               "launch, and takes about 15 seconds…" if models.needs_build(handle)
               else f"Loading {what} {handle}…")
    try:
        with st.spinner(plain(message), show_time=True):
            return load(handle)
    except HubDemoError as err:
        show_error(err)
        return None


def dataset_ui() -> datasets.Dataset | None:
    """Pick a dataset from any source; returns it, or None (after saying why) when there is none yet."""
    default_folder = st.session_state.get("default_data")
    source = st.radio("Dataset", SOURCES, horizontal=True,
                      **remembered("dataset_source", FOLDER if default_folder else DIGITS))
    try:
        if source == DIGITS:
            with st.spinner("Preparing the handwritten digits (first time only)…"):
                return cached.digits_dataset()
        if source == FOLDER:
            return _folder_ui(default_folder)
        if source == ZIP:
            return _zip_ui()
        if source == BUILD:
            return _builder_ui()
        return _flowers_ui()
    except HubDemoError as err:
        show_error(err)
        return None


def _folder_ui(default_folder: str | None) -> datasets.Dataset | None:
    folder = st.text_input("Folder path", placeholder="/home/me/flower_photos",
                           help="A folder with one subfolder per class: `flowers/daisy/*.jpg`, "
                                "`flowers/roses/*.jpg`…",
                           **remembered("dataset_folder", default_folder)).strip()  # A pasted path may end in a space.
    if not folder:
        st.info("Type the path of a folder that has one subfolder of photos per class (or of a .zip of one).")
        return None
    with st.spinner("Reading the folder…"):
        return cached.folder_dataset(folder, datasets.folder_signature(folder))


def _zip_ui() -> datasets.Dataset | None:
    upload = st.file_uploader("A .zip with one folder per class", type=["zip"], key="dataset_zip")
    if upload is not None:
        with st.spinner("Checking and extracting the archive…"):
            st.session_state["kept_zip_dataset"] = cached.zip_dataset(upload.getvalue(), upload.name)
    dataset = st.session_state.get("kept_zip_dataset")
    if dataset is None:
        st.info("Upload a .zip whose folders are the classes, e.g. daisy/1.jpg, roses/2.jpg "
                "(a single top folder around them is fine).")
    return dataset


def _builder_ui() -> datasets.Dataset | None:
    """Teachable-Machine style: name classes, add photos to each by upload or camera, see them as thumbnails."""
    classes: dict[str, dict[str, tuple[str, bytes]]] = st.session_state.setdefault("built_classes", {})
    with st.form("new_class", clear_on_submit=True, border=False):
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        new = name_col.text_input("New class name", placeholder="e.g. cat", key="new_class_name")
        if button_col.form_submit_button("Add class") and new.strip():
            classes.setdefault(new.strip(), {})
    for name in list(classes):
        photos = classes[name]
        _collect_photos(name, photos)  # Before the header, so its count includes what was just added.
        with st.expander(f"{name}: {count(len(photos), 'photo')}", expanded=len(photos) < 2):
            st.file_uploader(f"Photos of {name}", accept_multiple_files=True, key=f"build_up_{name}")
            if st.toggle("Camera", key=f"build_cam_on_{name}"):
                st.camera_input(f"A photo of {name}", key=f"build_cam_{name}")
            _thumbnails_ui(list(photos))
            if st.button(f"Remove class {name}", key=f"build_rm_{name}"):
                del classes[name]
                st.rerun()
    if not classes:
        st.info("Add a class, then photos of it. Two classes with a few photos each are enough to start.")
        return None
    as_lists = {name: list(photos.values()) for name, photos in classes.items()}
    if all(as_lists.values()):
        st.download_button("Download this dataset as .zip", datasets.build_zip(as_lists),
                           file_name="my_dataset.zip", mime="application/zip")
    return cached.built_dataset(as_lists)


def _collect_photos(name: str, photos: dict) -> None:
    """Add what the class's uploader and camera hold (their state is current before they are drawn)."""
    added = [(f.file_id, f.name, f) for f in st.session_state.get(f"build_up_{name}") or []]
    shot = st.session_state.get(f"build_cam_{name}") if st.session_state.get(f"build_cam_on_{name}") else None
    if shot is not None:
        added.append((shot.file_id, "camera.jpg", shot))
    thumbs = st.session_state.setdefault("built_thumbs", {})
    for file_id, filename, upload in added:
        if file_id not in photos:
            photos[file_id] = (filename, upload.getvalue())
            thumbs[file_id] = images.small_square(photos[file_id][1], THUMB_SIZE)  # Once per photo.


THUMB_SIZE = 96


def _thumbnails_ui(file_ids: list[str], per_row: int = 8) -> None:
    """Small squares of the photos a class has, so a wrong one stands out."""
    thumbs = st.session_state.get("built_thumbs", {})
    for start in range(0, len(file_ids), per_row):
        for column, file_id in zip(st.columns(per_row), file_ids[start:start + per_row]):
            thumb = thumbs.get(file_id)
            if thumb is None:
                column.caption(":material/broken_image: not a photo")
            else:
                column.image(thumb, width="stretch")


def _flowers_ui() -> datasets.Dataset | None:
    dataset = st.session_state.get("kept_flowers_dataset")
    if dataset is not None:
        return dataset
    st.caption(plain(datasets.FLOWERS_CREDIT) + " The archive is 218 MB; it is downloaded once and kept.")
    if not st.button("Download TF Flowers", key="download_flowers"):
        return None
    bar = st.progress(0.0, "Downloading TF Flowers…")
    try:
        dataset = datasets.load_flowers(
            progress=lambda done, total: bar.progress(done / total if total else 0.0,
                                                      f"Downloading TF Flowers… {done / 1e6:.0f} MB"))
    finally:
        bar.empty()
    st.session_state["kept_flowers_dataset"] = dataset
    return dataset


def summary_ui(dataset: datasets.Dataset) -> None:
    """Classes, counts as a bar chart, skipped files with reasons, and warnings."""
    counts = dataset.counts
    images, classes, skipped = st.columns(3)
    images.metric("Images", f"{len(dataset):,}")
    classes.metric("Classes", len(counts))
    skipped.metric("Skipped files", len(dataset.skipped))
    if dataset.credit:
        st.caption(dataset.credit)
    for warning in dataset.warnings:
        st.warning(plain(warning), icon=":material/balance:")
    with st.expander("Images per class" + (" and skipped files" if dataset.skipped else "")):
        st.altair_chart(charts.class_counts(counts))
        if dataset.skipped:
            st.dataframe([{"File": s.file, "Why it was skipped": s.reason} for s in dataset.skipped],
                         hide_index=True)


def gallery_ui(items: list[tuple[str, str]], per_row: int = 6, heat_of=None) -> None:
    """Thumbnails of image files, each with its caption; with ``heat_of`` (a model), where it looked instead."""
    heats = None
    if heat_of is not None:
        with st.spinner("Working out where the model looked…"):
            heats = cached.file_heatmaps(heat_of, [path for path, _ in items], 160)
    for start in range(0, len(items), per_row):
        for offset, (column, (path, caption)) in enumerate(zip(st.columns(per_row), items[start:start + per_row])):
            picture = heats[start + offset] if heats is not None else cached.thumbnail(path, 160)
            if picture is not None:
                column.image(picture, caption=caption or None)


def heat_toggle_ui(model, key: str, label: str = "Show where the model looked"):
    """A toggle for Grad-CAM heatmaps when ``model`` allows them; returns the model to explain, or None."""
    from hubdemo import explain
    if model is None or "gradcam" not in explain.methods_for(model):
        return None
    on = st.toggle(label, key=key, help="Grad-CAM: red where the model found the evidence for its answer.")
    return model if on else None


def evaluation_ui(ev, *, key: str, what: str, model=None) -> None:
    """Accuracy per class, the confusion matrix (click a cell to see its photos) and the mistakes.

    Args:
        ev: a ``hubdemo.evaluation.Evaluation``.
        key: distinguishes this view's chart selection from another's on the same page.
        what: which model on which photos, for the headings ("flowers · run 2 on its validation photos").
        model: the model evaluated; when Grad-CAM can read it, the galleries can show where it looked.
    """
    per_class, confusion = st.columns([2, 3])
    per_class.markdown("**Right, per class**")
    per_class.altair_chart(charts.per_class_accuracy(ev.per_class))
    confusion.markdown("**Confusion matrix** (click a cell to see its photos)")
    event = confusion.altair_chart(charts.confusion_heatmap(ev.confusion, ev.class_names), on_select="rerun",
                                   key=f"{key}_confusion", width="content")
    heat_of = heat_toggle_ui(model, f"{key}_gallery_heat", "In the photos below, show where the model looked")
    picked = (event.selection.get(charts.CONFUSION_SELECTION) or [None])[0] if event else None
    if picked:
        names = list(ev.class_names)
        true, predicted = names.index(picked["true"]), names.index(picked["predicted"])
        cell = ev.cell(true, predicted)
        verdict = "right" if true == predicted else "wrong"
        st.markdown(f"**{count(len(cell), 'photo')} of {plain(picked['true'])} predicted as "
                    f"{plain(picked['predicted'])}** ({verdict}; {plain(what)})")
        gallery_ui([(str(m.file), f"{m.true} → {m.predicted} ({m.probability:.0%})") for m in cell[:30]],
                   heat_of=heat_of)
    mistakes = ev.mistakes
    with st.expander(f"Mistakes ({len(mistakes)}) · {what}", expanded=bool(mistakes)):
        if not mistakes:
            st.success("None: every photo was predicted right.")
        if heat_of is not None and mistakes:
            st.caption("Why did it call this rose a tulip? Each photo shows where the model found the evidence for "
                       "the class it chose.")
        gallery_ui([(str(m.file), f"{m.true} → {m.predicted} ({m.probability:.0%})") for m in mistakes[:30]],
                   heat_of=heat_of)
        if len(mistakes) > 30:
            st.caption(f"The first 30 of {len(mistakes)}.")
