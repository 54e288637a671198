"""The dataset picker every page shares: built-in digits, a folder, a .zip, photos built in the browser,
TF Flowers, the class project; and the summary of what was picked.

What was picked is remembered across pages (``widgets.remembered``); photos
built in the browser go to this tab's workspace as they arrive (``room.folder``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import streamlit as st

import cached
import camera
import room
import widgets
from hubdemo import charts, class_project, datasets, paths
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _, sentences

# The dataset sources, as kept in session state; shown translated (``format_func=_``).
DIGITS = N_("Handwritten digits (built in, works offline)")
FOLDER = N_("A folder on this computer")
ZIP = N_("Upload a .zip")
BUILD = N_("Build your own (photos or camera)")
FLOWERS = N_("TF Flowers (the tutorial's; download)")
SOURCES = (DIGITS, FOLDER, ZIP, BUILD, FLOWERS)
PROJECT = N_("The class project")


def dataset_ui() -> datasets.Dataset | None:
    """Pick a dataset from any source; returns it, or None (after saying why) when there is none yet."""
    default_folder = st.session_state.get("default_data")
    project = room.project()
    sources = (*SOURCES, PROJECT) if project is not None else SOURCES
    source = st.radio(_("Dataset"), sources, horizontal=True, format_func=_,
                      **widgets.remembered("dataset_source", FOLDER if default_folder else DIGITS, options=sources))
    try:
        if source == PROJECT:
            return project_dataset_ui(project)
        if source == DIGITS:
            with st.spinner(_("Preparing the handwritten digits (first time only)…")):
                return cached.digits_dataset()
        if source == FOLDER:
            return _folder_ui(default_folder)
        if source == ZIP:
            return _zip_ui()
        if source == BUILD:
            return _builder_ui()
        return _flowers_ui()
    except HubDemoError as err:
        widgets.show_error(err)
        return None


def _folder_ui(default_folder: str | None) -> datasets.Dataset | None:
    policy = room.policy()
    if policy.on:
        st.caption(_("The teacher's dataset folders: {folders}").format(
            folders=", ".join(f"`{r}`" for r in policy.data_roots))
                   if policy.data_roots else _("The teacher shared no folders: use another source."))
    folder = st.text_input(_("Folder path"), placeholder="/home/me/flower_photos",
                           help=_("A folder with one subfolder per class: `flowers/daisy/*.jpg`, "
                                  "`flowers/roses/*.jpg`…"),
                           **widgets.remembered("dataset_folder", default_folder))
    folder = paths.typed(folder)  # Pasted: it may end in a space, or come in quotes.
    if not folder:
        st.info(_("Type the path of a folder that has one subfolder of photos per class (or of a .zip of one)."))
        return None
    folder = str(policy.check_folder(folder))
    with st.spinner(_("Reading the folder…")):
        return cached.folder_dataset(folder, datasets.folder_signature(folder))


def _zip_ui() -> datasets.Dataset | None:
    upload = st.file_uploader(_("A .zip with one folder per class"), type=["zip"], key="dataset_zip")
    if upload is not None and st.session_state.get("kept_zip_id") != upload.file_id:  # Once per upload.
        with st.spinner(_("Checking and extracting the archive…")):
            data = upload.getvalue()
            dest, needed = room.zip_destination(data, "uploads", _("{name} unpacked").format(name=upload.name))
            st.session_state["kept_zip_dataset"] = datasets.load_zip(data, name=upload.name, dest=dest,
                                                                     max_bytes=needed)
            st.session_state["kept_zip_id"] = upload.file_id
            room.release([upload])  # Extracted to disk: the archive's bytes need not stay in memory.
    dataset = st.session_state.get("kept_zip_dataset")
    if dataset is None:
        st.info(_("Upload a .zip whose folders are the classes, e.g. daisy/1.jpg, roses/2.jpg "
                  "(a single top folder around them is fine)."))
    return dataset


def _builder_ui() -> datasets.Dataset | None:
    """Teachable-Machine style: name classes, add photos to each by upload or camera, see them as thumbnails.

    The photos are written to this session's workspace as they arrive, not kept in the server's memory.
    """
    folder = room.folder("built")
    with st.form("new_class", clear_on_submit=True, border=False):
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        new = name_col.text_input(_("New class name"), placeholder=_("e.g. cat"), key="new_class_name")
        if button_col.form_submit_button(_("Add class")) and new.strip():
            (folder / datasets.clean_class_name(new)).mkdir(exist_ok=True)
    classes = datasets.built_classes(folder)
    if not classes:
        st.info(_("Add a class, then photos of it. Two classes with a few photos each are enough to start."))
        return None
    _recorder_ui(folder, list(classes))  # Above the classes: the video stays put as they grow.
    for name in classes:
        refused = _collect_photos(folder, name)  # Before the header, so its count includes what was just added.
        photos = datasets.built_classes(folder)[name]
        batch = st.session_state.get(f"build_batch_{name}", 0)
        recorded = len({datasets.recording(p) for p in photos} - {None})  # Kept whole in the split: worth knowing.
        header = f"{widgets.plain(name)}: {widgets.count(len(photos), 'photo')}" + (
            f" · {widgets.count(recorded, 'recording')}" if recorded else "")
        with st.expander(header, expanded=len(photos) < 2 or bool(refused)):
            if refused:
                widgets.show_error(refused)
            st.file_uploader(_("Photos of {name}").format(
                    name=name), accept_multiple_files=True, key=f"build_up_{name}_{batch}")
            if st.toggle(_("Camera snapshot"), key=f"build_cam_on_{name}"):
                st.camera_input(_("A photo of {name}").format(name=name), key=f"build_cam_{name}_{batch}")
            # Each with its remove button: a blurred or wrong photo goes without losing the class.
            removable_photos_ui([(p, "") for p in photos], lambda p: p.unlink(missing_ok=True), _("Remove"),
                                ":material/delete:", size=96)
            if st.button(_("Remove class {name}").format(name=name), key=f"build_rm_{name}"):
                shutil.rmtree(folder / name, ignore_errors=True)
                st.rerun()
    classes = datasets.built_classes(folder)
    if all(classes.values()):
        st.download_button(_("Download this dataset as .zip"), lambda: datasets.build_zip(folder), on_click="ignore",
                           file_name="my_dataset.zip", mime="application/zip")
    return cached.built_dataset(str(folder), datasets.folder_signature(folder), _("my dataset"))


def _collect_photos(folder: Path, name: str) -> str | None:
    """Write what the class's uploader and camera hold to its folder, then empty them; returns why not, if refused.

    Their state is current before they are drawn, so the header's count
    includes what was just added. Streamlit is told to let go of the photos'
    bytes (they live on disk only, not in the server's memory), and the
    uploader and camera are drawn again, empty, under a new key: also when
    the photos were refused (no room), so the class can be used on.
    """
    batch = st.session_state.get(f"build_batch_{name}", 0)
    added = [(f.name, f) for f in st.session_state.get(f"build_up_{name}_{batch}") or []]
    shot = st.session_state.get(f"build_cam_{name}_{batch}") if st.session_state.get(f"build_cam_on_{name}") else None
    if shot is not None:
        added.append(("camera.jpg", shot))
    if not added:
        return None
    refused = _add_photos(folder, name, [(upload.file_id, filename, upload.getvalue()) for filename, upload in added])
    room.release(upload for _name, upload in added)
    st.session_state[f"build_batch_{name}"] = batch + 1
    return refused


def _add_photos(folder: Path, name: str, photos: list[tuple[str, str, bytes]]) -> str | None:
    """Write ``(photo_id, filename, data)`` photos to class ``name``: room for all of them at once (one look at
    the workspace), or none is written; returns why not, if refused."""
    try:
        room.make_room(sum(len(data) for _id, _filename, data in photos), widgets.these_photos(len(photos)))
        for photo_id, filename, data in photos:
            datasets.add_built_photo(folder, name, photo_id, filename, data)
    except HubDemoError as err:
        return str(err)
    return None


def _recorder_ui(folder: Path, class_names: list[str]) -> None:
    """The live camera, recording many photos of a class in a few seconds (Teachable Machine's "hold to record")."""
    if not st.toggle(_("Record from the live camera"), key="build_live",
                     help=_("Live video from your camera: pick a class, press Record, and it takes a photo "
                            "five times a second while you move the object.")):
        return
    recorded = camera.recorder_ui(class_names, "build_rec", done=st.session_state.get("build_recorded"))
    if recorded is None:
        return
    name, photos = recorded
    refused = _add_photos(folder, name, [(photo_id, "live.jpg", data) for photo_id, data in photos])
    if refused:
        widgets.show_error(refused)
        return
    st.session_state.build_recorded = sentences(_("Added {photos} to {name}.").format(
        photos=widgets.count(len(photos), "photo"), name=name), _(
        "Photos a fifth of a second apart look alike, so a recording stays whole on one side of the split: "
        "the model is checked on recordings it has not seen. Record each class a few times, from different "
        "sides and places."))
    st.rerun()  # The class's count and thumbnails above, with the new photos.


def _flowers_ui() -> datasets.Dataset | None:
    dataset = st.session_state.get("kept_flowers_dataset")
    if dataset is not None:
        return dataset
    st.caption(sentences(widgets.plain(_(datasets.FLOWERS_CREDIT)),
                              _("The archive is 218 MB; it is downloaded once and kept.")))
    if not st.button(_("Download TF Flowers"), key="download_flowers"):
        return None
    bar = st.progress(0.0, _("Downloading TF Flowers…"))
    try:
        dataset = datasets.load_flowers(
            progress=lambda done, total: bar.progress(done / total if total else 0.0,
                                                      _("Downloading TF Flowers… {done:.0f} MB").format(
                                                              done=done / 1e6)))
    finally:
        bar.empty()
    st.session_state["kept_flowers_dataset"] = dataset
    return dataset


def project_dataset_ui(project) -> datasets.Dataset:
    """The class project's photos so far (read again when one comes or goes)."""
    st.caption(_("Join code **{code}**: the photos the whole class added (Class project page).").format(
            code=project.code))
    return cached.built_dataset(str(project.folder), datasets.folder_signature(project.folder),
                                _(class_project.DATASET_NAME).format(code=project.code))


def project_counts_ui(project) -> dict:
    """The class project's photos per class as a bar chart; returns the photos."""
    photos = project.photos()
    st.altair_chart(charts.class_counts({name: len(files) for name, files in photos.items()}))
    return photos


def removable_photos_ui(items: list[tuple[Path, str]], remove, button: str, icon: str, *, size: int = 120) -> None:
    """Thumbnails of photos, each captioned, each with a button that ``remove`` s it (a bad photo, a wrong class).

    ``size`` pixels wide, in a row that wraps: on a phone, two or three a row rather than one per screen.
    """
    with st.container(horizontal=True, wrap=True):
        for path, caption in items:
            with st.container(width=size):
                thumb = cached.thumbnail(str(path), size)
                if thumb is None:
                    st.caption(_(":material/broken_image: not a photo"))
                else:
                    st.image(thumb, caption=widgets.plain(caption) or None, width="stretch")
                if st.button(button, key=f"rm_{path.parent.name}_{path.name}", icon=icon, width="stretch"):
                    remove(path)
                    st.rerun()


def summary_ui(dataset: datasets.Dataset) -> None:
    """Classes, counts as a bar chart, skipped files with reasons, and warnings."""
    counts = dataset.counts
    images, classes, skipped = st.columns(3)
    images.metric(_("Images"), f"{len(dataset):,}")
    classes.metric(_("Classes"), len(counts))
    skipped.metric(_("Skipped files"), len(dataset.skipped))
    if dataset.credit:
        st.caption(_(dataset.credit))
    for warning in dataset.warnings:
        st.warning(widgets.plain(warning), icon=":material/balance:")
    with st.expander(_("Images per class and skipped files") if dataset.skipped else _("Images per class")):
        st.altair_chart(charts.class_counts(counts))
        if dataset.skipped:
            st.dataframe([{_("File"): s.file, _("Why it was skipped"): s.reason} for s in dataset.skipped],
                         hide_index=True)
