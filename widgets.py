"""UI pieces shared by pages: the dataset picker (every source), its summary, messages and result views.

Widget values vanish when a page stops showing the widget, so what the user
chose is copied into plain session state (``remembered``): going to the
training page and back keeps the dataset.
"""

from __future__ import annotations

import json
import re
import runpy
import shutil
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import cached
import room
from hubdemo import charts, class_project, datasets, i18n, models
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _, ngettext

ROUTER = Path(__file__).with_name("streamlit_app.py")
# The dataset sources, as kept in session state; shown translated (``format_func=_``).
DIGITS = N_("Handwritten digits (built in, works offline)")
FOLDER = N_("A folder on this computer")
ZIP = N_("Upload a .zip")
BUILD = N_("Build your own (photos or camera)")
FLOWERS = N_("TF Flowers (the tutorial's; download)")
SOURCES = (DIGITS, FOLDER, ZIP, BUILD, FLOWERS)
PROJECT = N_("The class project")


def language_ui() -> None:
    """This session's language: the browser's at first (Accept-Language), then whatever is picked in the sidebar.

    Set before anything is drawn, so the whole page speaks it.
    """
    names = i18n.languages()
    browser = (i18n.from_accept_language(st.context.headers.get("Accept-Language"))
               or i18n.best_match([st.context.locale or ""]) or i18n.SOURCE)
    chosen = st.sidebar.selectbox("Language · 语言", list(names), format_func=names.get,
                                  **remembered("language", browser, options=list(names)))
    i18n.set_language(chosen)
    streamlit_words_ui()


def streamlit_words_ui() -> None:
    """Streamlit's own words on its uploader and camera, in the page's language.

    Those controls take no text from the app (their button says "Upload", the
    camera's "Take Photo"), so in a language other than English a style sheet
    hides each word and shows the translation in its place (CSS generated
    content, which screen readers read too). The words come from the catalogues
    like every other; English pages are left as Streamlit draws them.
    """
    if i18n.language() == i18n.SOURCE:
        return
    limit = _("{mb} MB per file").format(mb=st.get_option("server.maxUploadSize"))
    words = [  # (where, the translation, its size in pixels: Streamlit's own for that text)
        ('[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p', _("Upload"), 14),
        ('[data-testid="stFileUploaderDropzoneInstructions"] span', limit, 14),
        ('[data-testid="stCameraInputButton"]', _("Clear photo"), 16),  # The camera's button once a photo is taken…
        ('[data-testid="stCameraInputWebcamComponent"] [data-testid="stCameraInputButton"]', _("Take Photo"), 16),
        ('[data-testid="stCameraInputWebcamComponent"] p', _("This app would like to use your camera."), 16),
        ('[data-testid="stCameraInputWebcamComponent"] p a', _("Learn how to allow access."), 16),
    ]
    rules = "".join(f"{where}{{font-size:0}}{where}::after{{content:{json.dumps(text, ensure_ascii=False)};"
                    f"font-size:{size}px}}" for where, text, size in words)
    st.html(f"<style>{rules}</style>")


def in_page_language(make):
    """``make`` as a download button's deferred ``data``, speaking the page's language.

    Streamlit calls such a callable when the button is clicked, outside the page's run, where the
    session's language is not known: it is taken now and used then.
    """
    language = i18n.language()

    def made():
        with i18n.speaking(language):
            return make()
    return made


def _session_language() -> str | None:
    """The language kept in this session's state, for fragments (they run without the router)."""
    if get_script_run_ctx() is None:
        return None
    return st.session_state.get("kept_language") or st.session_state.get("language")


i18n.use_session_language(_session_language)


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


METHOD_TITLES = {"gradcam": N_("Grad-CAM"), "occlusion": N_("Occlusion"),
                 "integrated-gradients": N_("Integrated gradients")}
METHODS_HELP = N_("**Grad-CAM** reads the network's own inner maps: instant, for the bundled "
                  "EfficientNet-Lite networks and models trained on them. **Occlusion** greys one patch at a time and "
                  "watches the answer drop: any model, about a second. **Integrated gradients** follows the "
                  "gradient from a grey picture to the photo: any model, under a second.")


def method_title(method: str) -> str:
    """A heatmap method's name, in the reader's language."""
    return _(METHOD_TITLES[method])


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
        return _("about {seconds:.0f} seconds").format(seconds=max(5, round(seconds / 5) * 5))
    return _("about {minutes:.0f} minutes").format(minutes=round(seconds / 60))


def count(n: int, noun: str) -> str:
    """``1 photo``, ``10 photos``, ``3 classes``: a number of things, in the reader's language.

    ``noun`` is one of the few things the pages count; each has both forms
    written out, so every language can give its own (Chinese has one).
    """
    forms = {"photo": lambda: ngettext("{n:,} photo", "{n:,} photos", n),
             "validation photo": lambda: ngettext("{n:,} validation photo", "{n:,} validation photos", n),
             "class": lambda: ngettext("{n:,} class", "{n:,} classes", n),
             "session": lambda: ngettext("{n:,} session", "{n:,} sessions", n)}
    return forms[noun]().format(n=n)


def classifier_ui(handle: str):
    """The cached ImageNet classifier, with a progress message while it builds or loads; None after an error."""
    return _load_ui(cached.classifier, handle, _("Loading the model {handle}…"))


def extractor_ui(handle: str):
    """The cached feature extractor, with a progress message while it builds or loads; None after an error."""
    return _load_ui(cached.extractor, handle, _("Loading the feature extractor {handle}…"))


def spinner(message: str):
    """``st.spinner`` with its clock of elapsed time where the page is in English: the clock speaks only English."""
    return st.spinner(message, show_time=i18n.language() == i18n.SOURCE)


def _load_ui(load, handle: str, loading: str):
    message = (_("Building {model} from its bundled weights. This happens once, the first time it is "
                 "used, and takes about 15 seconds…").format(model=models.short_name(handle))
               if models.needs_build(handle)
               else loading.format(handle=handle))
    try:
        with spinner(plain(message)):
            return load(handle)
    except HubDemoError as err:
        show_error(err)
        return None


def dataset_ui() -> datasets.Dataset | None:
    """Pick a dataset from any source; returns it, or None (after saying why) when there is none yet."""
    default_folder = st.session_state.get("default_data")
    project = room.project()
    sources = (*SOURCES, PROJECT) if project is not None else SOURCES
    source = st.radio(_("Dataset"), sources, horizontal=True, format_func=_,
                      **remembered("dataset_source", FOLDER if default_folder else DIGITS, options=sources))
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
        show_error(err)
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
                           **remembered("dataset_folder", default_folder)).strip()  # A pasted path may end in a space.
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
    for name in datasets.built_classes(folder):
        _collect_photos(folder, name)  # Before the header, so its count includes what was just added.
        photos = datasets.built_classes(folder)[name]
        batch = st.session_state.get(f"build_batch_{name}", 0)
        with st.expander(f"{name}: {count(len(photos), 'photo')}", expanded=len(photos) < 2):
            st.file_uploader(_("Photos of {name}").format(
                    name=name), accept_multiple_files=True, key=f"build_up_{name}_{batch}")
            if st.toggle(_("Camera"), key=f"build_cam_on_{name}"):
                st.camera_input(_("A photo of {name}").format(name=name), key=f"build_cam_{name}_{batch}")
            _thumbnails_ui(photos)
            if st.button(_("Remove class {name}").format(name=name), key=f"build_rm_{name}"):
                shutil.rmtree(folder / name, ignore_errors=True)
                st.rerun()
    classes = datasets.built_classes(folder)
    if not classes:
        st.info(_("Add a class, then photos of it. Two classes with a few photos each are enough to start."))
        return None
    if all(classes.values()):
        st.download_button(_("Download this dataset as .zip"), lambda: datasets.build_zip(folder), on_click="ignore",
                           file_name="my_dataset.zip", mime="application/zip")
    return cached.built_dataset(str(folder), datasets.folder_signature(folder), _("my dataset"))


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
        room.make_room(upload.size, _("this photo"))
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
                column.caption(_(":material/broken_image: not a photo"))
            else:
                column.image(thumb, width="stretch")


def _flowers_ui() -> datasets.Dataset | None:
    dataset = st.session_state.get("kept_flowers_dataset")
    if dataset is not None:
        return dataset
    st.caption(plain(_(datasets.FLOWERS_CREDIT)) + " " + _("The archive is 218 MB; it is downloaded once and kept."))
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
    images.metric(_("Images"), f"{len(dataset):,}")
    classes.metric(_("Classes"), len(counts))
    skipped.metric(_("Skipped files"), len(dataset.skipped))
    if dataset.credit:
        st.caption(_(dataset.credit))
    for warning in dataset.warnings:
        st.warning(plain(warning), icon=":material/balance:")
    with st.expander(_("Images per class and skipped files") if dataset.skipped else _("Images per class")):
        st.altair_chart(charts.class_counts(counts))
        if dataset.skipped:
            st.dataframe([{_("File"): s.file, _("Why it was skipped"): s.reason} for s in dataset.skipped],
                         hide_index=True)


def gallery_ui(items: list[tuple[str, str]], per_row: int = 6, heat_of=None) -> None:
    """Thumbnails of image files, each with its caption; with ``heat_of`` (a model), where it looked instead."""
    heats = None
    if heat_of is not None:
        with st.spinner(_("Working out where the model looked…")):
            heats = cached.file_heatmaps(heat_of, [path for path, _ in items], 160)
    for start in range(0, len(items), per_row):
        for offset, (column, (path, caption)) in enumerate(zip(st.columns(per_row), items[start:start + per_row])):
            picture = heats[start + offset] if heats is not None else cached.thumbnail(path, 160)
            if picture is not None:
                column.image(picture, caption=caption or None)


def heat_toggle_ui(model, key: str, label: str = ""):
    """A toggle for Grad-CAM heatmaps when ``model`` allows them; returns the model to explain, or None."""
    from hubdemo import explain
    if model is None or "gradcam" not in explain.methods_for(model):
        return None
    on = st.toggle(label or _("Show where the model looked"), key=key,
                   help=_("Grad-CAM: red where the model found the evidence for its answer."))
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
    per_class.markdown(_("**Right, per class**"))
    per_class.altair_chart(charts.per_class_accuracy(ev.per_class))
    confusion.markdown(_("**Confusion matrix** (click a cell to see its photos)"))
    event = confusion.altair_chart(charts.confusion_heatmap(ev.confusion, ev.class_names), on_select="rerun",
                                   key=f"{key}_confusion", width="content")
    heat_of = heat_toggle_ui(model, f"{key}_gallery_heat", _("In the photos below, show where the model looked"))
    picked = (event.selection.get(charts.CONFUSION_SELECTION) or [None])[0] if event else None
    if picked:
        names = list(ev.class_names)
        true, predicted = names.index(picked["true"]), names.index(picked["predicted"])
        cell = ev.cell(true, predicted)
        verdict = _("right") if true == predicted else _("wrong")
        st.markdown(_("**{count} of {true} predicted as "
                      "{predicted}** ({verdict}; {what})").format(
                          count=count(len(cell), 'photo'), true=plain(picked['true']),
                          predicted=plain(picked['predicted']), verdict=verdict, what=plain(what)))
        gallery_ui([(str(m.file), f"{m.true} → {m.predicted} ({m.probability:.0%})") for m in cell[:30]],
                   heat_of=heat_of)
    mistakes = ev.mistakes
    with st.expander(_("Mistakes ({n_mistakes}) · {what}").format(
            n_mistakes=len(mistakes), what=what), expanded=bool(mistakes)):
        if not mistakes:
            st.success(_("None: every photo was predicted right."))
        if heat_of is not None and mistakes:
            st.caption(_("Why did it call this rose a tulip? Each photo shows where the model found the evidence for "
                         "the class it chose."))
        gallery_ui([(str(m.file), f"{m.true} → {m.predicted} ({m.probability:.0%})") for m in mistakes[:30]],
                   heat_of=heat_of)
        if len(mistakes) > 30:
            st.caption(_("The first 30 of {n_mistakes}.").format(n_mistakes=len(mistakes)))
