"""UI pieces shared by pages: the dataset picker (every source) and its summary.

Widget values vanish when a page stops showing the widget, so what the user
chose is copied into plain session state (``remembered``): going to the
training page and back keeps the dataset.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

import cached
from hubdemo import charts, datasets, models
from hubdemo.errors import HubDemoError

ROUTER = Path(__file__).with_name("streamlit_app.py")
DIGITS = "Handwritten digits (built in, works offline)"
FOLDER = "A folder on this computer"
ZIP = "Upload a .zip"
BUILD = "Build your own (photos or camera)"
FLOWERS = "TF Flowers (the tutorial's; download)"
SOURCES = (DIGITS, FOLDER, ZIP, BUILD, FLOWERS)
CUSTOM = "Other: a TF Hub URL or a SavedModel folder…"


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


def remembered(key: str, default=None) -> dict:
    """Widget arguments that keep its value across pages: ``st.radio(..., **remembered("k"))``.

    Streamlit forgets a widget's value once a page without it has run, so the
    value is copied to a plain key on every change and given back before the
    widget is drawn again.
    """
    value = st.session_state.get(f"kept_{key}", default)
    if value is not None:
        st.session_state[key] = value
    return {"key": key, "on_change": _keep, "args": (key,)}


def _keep(key: str) -> None:
    st.session_state[f"kept_{key}"] = st.session_state[key]


def model_picker_ui(kind: str, key: str) -> str:
    """Sidebar choice among the catalogue's models of one kind, or any handle; returns the handle."""
    specs = {spec.title: spec for spec in models.catalogue(kind)}
    choice = st.sidebar.selectbox("Model", [*specs, CUSTOM], **remembered(f"{key}_model"))
    if choice == CUSTOM:
        st.sidebar.caption("A TF Hub or Kaggle URL (needs internet once), or the path of a folder "
                           "holding saved_model.pb, on this computer.")
        handle = st.sidebar.text_input("Model handle", placeholder="https://tfhub.dev/… or /path/to/saved_model",
                                       **remembered(f"{key}_handle"))
        return handle
    st.sidebar.caption(specs[choice].description)
    return specs[choice].handle


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
        st.error(str(err), icon=":material/error:")
        return None


def _folder_ui(default_folder: str | None) -> datasets.Dataset | None:
    folder = st.text_input("Folder path", placeholder="/home/me/flower_photos",
                           help="A folder with one subfolder per class: flowers/daisy/*.jpg, flowers/roses/*.jpg…",
                           **remembered("dataset_folder", default_folder))
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
    """Teachable-Machine style: name classes, add photos to each by upload or camera."""
    classes: dict[str, dict[str, tuple[str, bytes]]] = st.session_state.setdefault("built_classes", {})
    with st.form("new_class", clear_on_submit=True, border=False):
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        new = name_col.text_input("New class name", placeholder="e.g. cat", key="new_class_name")
        if button_col.form_submit_button("Add class") and new.strip():
            classes.setdefault(new.strip(), {})
    for name in list(classes):
        photos = classes[name]
        with st.expander(f"{name}: {len(photos)} photo(s)", expanded=len(photos) < 2):
            uploads = st.file_uploader(f"Photos of {name}", accept_multiple_files=True, key=f"build_up_{name}")
            for f in uploads or []:
                photos[f.file_id] = (f.name, f.getvalue())
            if st.toggle("Camera", key=f"build_cam_on_{name}"):
                shot = st.camera_input(f"A photo of {name}", key=f"build_cam_{name}")
                if shot is not None:
                    photos[shot.file_id] = ("camera.jpg", shot.getvalue())
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


def _flowers_ui() -> datasets.Dataset | None:
    dataset = st.session_state.get("kept_flowers_dataset")
    if dataset is not None:
        return dataset
    st.caption(datasets.FLOWERS_CREDIT + " The archive is 218 MB; it is downloaded once and kept.")
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
        st.warning(warning, icon=":material/balance:")
    with st.expander("Images per class" + (" and skipped files" if dataset.skipped else "")):
        st.altair_chart(charts.class_counts(counts))
        if dataset.skipped:
            st.dataframe([{"File": s.file, "Why it was skipped": s.reason} for s in dataset.skipped],
                         hide_index=True)
