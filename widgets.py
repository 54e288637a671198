"""UI pieces shared by pages: the dataset picker (every source), its summary, messages and result views.

Widget values vanish when a page stops showing the widget, so what the user
chose is copied into plain session state (``remembered``): going to the
training page and back keeps the dataset.
"""

from __future__ import annotations

import re
import runpy
import shutil
from pathlib import Path

import streamlit as st

import cached
import room
from hubdemo import charts, datasets, models
from hubdemo.errors import HubDemoError

ROUTER = Path(__file__).with_name("streamlit_app.py")
DIGITS = "Handwritten digits (built in, works offline)"
FOLDER = "A folder on this computer"
ZIP = "Upload a .zip"
BUILD = "Build your own (photos or camera)"
FLOWERS = "TF Flowers (the tutorial's; download)"
SOURCES = (DIGITS, FOLDER, ZIP, BUILD, FLOWERS)
PROJECT = "The class project"


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
    project = room.project()
    sources = (*SOURCES, PROJECT) if project is not None else SOURCES
    source = st.radio("Dataset", sources, horizontal=True,
                      **remembered("dataset_source", FOLDER if default_folder else DIGITS, options=sources))
    try:
        if source == PROJECT:
            return project_dataset_ui(project)
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
    policy = room.policy()
    if policy.on:
        st.caption("The teacher's dataset folders: " + ", ".join(f"`{r}`" for r in policy.data_roots)
                   if policy.data_roots else "The teacher shared no folders: use another source.")
    folder = st.text_input("Folder path", placeholder="/home/me/flower_photos",
                           help="A folder with one subfolder per class: `flowers/daisy/*.jpg`, "
                                "`flowers/roses/*.jpg`…",
                           **remembered("dataset_folder", default_folder)).strip()  # A pasted path may end in a space.
    if not folder:
        st.info("Type the path of a folder that has one subfolder of photos per class (or of a .zip of one).")
        return None
    folder = str(policy.check_folder(folder))
    with st.spinner("Reading the folder…"):
        return cached.folder_dataset(folder, datasets.folder_signature(folder))


def _zip_ui() -> datasets.Dataset | None:
    upload = st.file_uploader("A .zip with one folder per class", type=["zip"], key="dataset_zip")
    if upload is not None and st.session_state.get("kept_zip_id") != upload.file_id:  # Once per upload.
        with st.spinner("Checking and extracting the archive…"):
            data = upload.getvalue()
            dest, needed = room.zip_destination(data, "uploads", f"{upload.name} unpacked")
            st.session_state["kept_zip_dataset"] = datasets.load_zip(data, name=upload.name, dest=dest,
                                                                     max_bytes=needed)
            st.session_state["kept_zip_id"] = upload.file_id
            room.release([upload])  # Extracted to disk: the archive's bytes need not stay in memory.
    dataset = st.session_state.get("kept_zip_dataset")
    if dataset is None:
        st.info("Upload a .zip whose folders are the classes, e.g. daisy/1.jpg, roses/2.jpg "
                "(a single top folder around them is fine).")
    return dataset


def _builder_ui() -> datasets.Dataset | None:
    """Teachable-Machine style: name classes, add photos to each by upload or camera, see them as thumbnails.

    The photos are written to this session's workspace as they arrive, not kept in the server's memory.
    """
    folder = room.folder("built")
    with st.form("new_class", clear_on_submit=True, border=False):
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        new = name_col.text_input("New class name", placeholder="e.g. cat", key="new_class_name")
        if button_col.form_submit_button("Add class") and new.strip():
            (folder / datasets.clean_class_name(new)).mkdir(exist_ok=True)
    for name in datasets.built_classes(folder):
        _collect_photos(folder, name)  # Before the header, so its count includes what was just added.
        photos = datasets.built_classes(folder)[name]
        batch = st.session_state.get(f"build_batch_{name}", 0)
        with st.expander(f"{name}: {count(len(photos), 'photo')}", expanded=len(photos) < 2):
            st.file_uploader(f"Photos of {name}", accept_multiple_files=True, key=f"build_up_{name}_{batch}")
            if st.toggle("Camera", key=f"build_cam_on_{name}"):
                st.camera_input(f"A photo of {name}", key=f"build_cam_{name}_{batch}")
            _thumbnails_ui(photos)
            if st.button(f"Remove class {name}", key=f"build_rm_{name}"):
                shutil.rmtree(folder / name, ignore_errors=True)
                st.rerun()
    classes = datasets.built_classes(folder)
    if not classes:
        st.info("Add a class, then photos of it. Two classes with a few photos each are enough to start.")
        return None
    if all(classes.values()):
        st.download_button("Download this dataset as .zip", lambda: datasets.build_zip(folder), on_click="ignore",
                           file_name="my_dataset.zip", mime="application/zip")
    return cached.built_dataset(str(folder), datasets.folder_signature(folder), "my dataset")


def _collect_photos(folder: Path, name: str) -> None:
    """Write what the class's uploader and camera hold to its folder, then empty them.

    Their state is current before they are drawn, so the header's count
    includes what was just added. Streamlit is told to let go of the photos'
    bytes (they live on disk only, not in the server's memory), and the
    uploader and camera are drawn again, empty, under a new key.
    """
    batch = st.session_state.get(f"build_batch_{name}", 0)
    added = [(f.name, f) for f in st.session_state.get(f"build_up_{name}_{batch}") or []]
    shot = st.session_state.get(f"build_cam_{name}_{batch}") if st.session_state.get(f"build_cam_on_{name}") else None
    if shot is not None:
        added.append(("camera.jpg", shot))
    for filename, upload in added:
        room.make_room(upload.size, "this photo")
        datasets.add_built_photo(folder, name, upload.file_id, filename, upload.getvalue())
    if added:
        room.release(upload for _, upload in added)
        st.session_state[f"build_batch_{name}"] = batch + 1


THUMB_SIZE = 96


def _thumbnails_ui(photos: list[Path], per_row: int = 8) -> None:
    """Small squares of the photos a class has, so a wrong one stands out."""
    for start in range(0, len(photos), per_row):
        for column, path in zip(st.columns(per_row), photos[start:start + per_row]):
            thumb = cached.thumbnail(str(path), THUMB_SIZE)
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


def project_dataset_ui(project) -> datasets.Dataset:
    """The class project's photos so far (read again when one comes or goes)."""
    st.caption(f"Join code **{project.code}**: the photos the whole class added (Class project page).")
    return cached.built_dataset(str(project.folder), datasets.folder_signature(project.folder),
                                f"class project {project.code}")


def project_counts_ui(project) -> dict:
    """The class project's photos per class as a bar chart; returns the photos."""
    photos = project.photos()
    st.altair_chart(charts.class_counts({name: len(files) for name, files in photos.items()}))
    return photos


def removable_photos_ui(project, items: list[tuple[Path, str]], button: str, icon: str, per_row: int = 6) -> None:
    """Thumbnails of class-project photos, each captioned, each with a button that removes it."""
    for start in range(0, len(items), per_row):
        for column, (path, caption) in zip(st.columns(per_row), items[start:start + per_row]):
            thumb = cached.thumbnail(str(path), 120)
            if thumb is not None:
                column.image(thumb, caption=caption)
            if column.button(button, key=f"rm_{path.name}", icon=icon):
                project.remove(path)
                st.rerun()


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
