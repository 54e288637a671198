"""Which model a page uses: an ImageNet model, one of this session's trained runs, or a saved export reopened.

Every page with a model picker lists the same choices, so a model trained on
the Train page (or opened from disk) can be tried on the classifier page, the
camera and the grid. A chosen model of yours comes with the ImageNet
classifier built on the same network, shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

import dataset_picker
import room
import widgets
from hubdemo import classroom, models, paths, saved
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _
from hubdemo.runs import RunBook
from hubdemo.runs import titles as run_titles

# Picker options as kept in session state; shown in the reader's language by :func:`option_title`.
CUSTOM = N_("Other: a TF Hub URL or a SavedModel folder…")
OPEN = N_("Open a saved model (an export folder or .zip)…")
YOURS = "Yours: "
FROM_FOLDER, FROM_ZIP = N_("A folder on this computer"), N_("Upload its .zip")
CLASS_MODEL = N_("{label} (the class's)")
CLASS_SUFFIX = CLASS_MODEL.format(label="")  # How a class model's option ends, in the code's own words.


@dataclass(frozen=True)
class Choice:
    """What a page classifies with."""

    label: str  # Names every result: "EfficientNet-Lite0 (ImageNet)" or "flowers · run 2".
    imagenet_handle: str  # The ImageNet model: the one chosen, or the twin of yours.
    mine: models.ImageClassifier | None = None  # Your model (a run's or a reopened export), else None.
    dataset_key: str = ""  # The fingerprint of the photos your model trained on, if known.
    validation_split: float | None = None  # With the seed: which of them it never trained on.
    seed: int = 0
    from_scratch: bool = False  # Your model learnt everything from your photos: nothing shared with ImageNet's.
    folder: Path | None = None  # Your model's export, if it has one: where the code a page shows loads it from.


def runs() -> RunBook:
    """This session's runs (kept across pages)."""
    return st.session_state.setdefault("runs", RunBook())


def latest_run_on(dataset, feature_handle: str):
    """The newest finished run on exactly this dataset with this feature extractor, or None."""
    return next((run for run in reversed(runs().runs) if run.evaluation is not None and not run.running
                 and run.dataset_key == dataset.fingerprint and run.feature_handle == feature_handle
                 and not run.config.from_scratch), None)


def opened() -> dict[str, saved.SavedExport]:
    """Saved exports reopened in this session, by title."""
    return st.session_state.setdefault("opened_models", {})


def yours() -> dict[str, Choice]:
    """Your models this session, newest run first, then reopened exports; keyed by their picker option."""
    choices = {}
    exported = st.session_state.get("exports", {})  # The Train page's export reports, by run number.
    for run in runs().with_models():
        report = exported.get(run.number)
        choices[YOURS + run.label] = Choice(run.label, models.imagenet_twin(run.feature_handle), run.model,
                                            run.dataset_key, run.config.validation_split, run.config.seed,
                                            run.config.from_scratch, code_folder(report.folder) if report else None)
    own = set(map(id, runs().runs))
    for run in room.class_runs():  # The teacher's models of the class project: everyone may try them.
        if id(run) not in own:
            choices[class_option(run)] = Choice(_(CLASS_MODEL).format(
                label=run.label), models.imagenet_twin(run.feature_handle),
                                                run.model, run.dataset_key, run.config.validation_split,
                                                run.config.seed)
    for title, export in opened().items():
        settings = export.metadata.get("settings") or {}
        choices[YOURS + title] = Choice(title, models.imagenet_twin(export.feature_handle), export.classifier,
                                        str(export.metadata.get("dataset_fingerprint") or ""),
                                        settings.get("validation_split"), int(settings.get("seed") or 0),
                                        bool(settings.get("from_scratch")), code_folder(export.folder))
    return choices


def resting() -> dict[str, object]:
    """Your earlier runs whose model left memory but whose weights are kept (RunBook.bring_back), by picker option."""
    book = runs()
    return {YOURS + run.label: run for run in reversed(book.runs) if book.can_bring_back(run)}


def bring_back(run) -> None:
    """Make an earlier run's model again from its kept weights (RunBook.bring_back), saying so meanwhile."""
    with st.spinner(_("Bringing back the model of run {number}…").format(number=run.number)):
        runs().bring_back(run, room.rebuild_model)


def code_folder(folder: Path) -> Path:
    """An export's folder as the code on a page names it: in a classroom, only its name (the student
    downloads and unzips it; the server's paths are not theirs to see)."""
    return Path(folder.name) if room.policy().on else folder


def class_option(run) -> str:
    """The picker option of the teacher's model of the class project."""
    return YOURS + CLASS_MODEL.format(label=run.label)


def option_title(option: str) -> str:
    """A picker option as the reader sees it: catalogue titles and fixed choices translated, run labels as they are."""
    if option.startswith(YOURS):
        own = option[len(YOURS):]
        if own.endswith(CLASS_SUFFIX):
            own = _(CLASS_MODEL).format(label=own[:-len(CLASS_SUFFIX)])
        return _("Yours: {model}").format(model=own)
    return _(option)


def feature_picker_ui(key: str) -> str:
    """Sidebar choice of a feature-vector model to train on, or any handle; returns the handle."""
    specs = {spec.title: spec for spec in models.catalogue("feature_vector")}
    choice = st.sidebar.selectbox(_("Feature extractor"), [*specs, CUSTOM], format_func=option_title,
                                  **widgets.remembered(f"{key}_model", options=[*specs, CUSTOM]))
    if choice == CUSTOM:
        return _custom_handle_ui(key)
    st.sidebar.caption(_(specs[choice].description))
    return specs[choice].handle


def dataset_and_extractor_ui(key: str):
    """The dataset and feature extractor a page works on (with the dataset's summary); stops the page until both are there."""
    dataset = dataset_picker.dataset_ui()
    if dataset is None:
        st.stop()
    dataset_picker.summary_ui(dataset)
    handle = feature_picker_ui(key)
    extractor = widgets.extractor_ui(handle) if handle else None
    if extractor is None:
        st.stop()
    return dataset, handle, extractor


def classifier_picker_ui(key: str) -> Choice | None:
    """Sidebar choice among ImageNet models, your models and "open a saved model"; None after saying why."""
    specs = {spec.title: spec for spec in models.catalogue("classification")}
    chosen = st.session_state.get(f"kept_{key}_model")
    if chosen in (waiting := resting()):  # Picked: its model is made again first (in a moment), then it is yours.
        bring_back(waiting[chosen])
    mine = yours()
    options = [*specs, *mine, *(option for option in resting() if option not in mine), OPEN, CUSTOM]
    # Your runs named by what sets them apart and their accuracy, as they are now (see pages/train.py).
    every = list(runs().runs)
    by_number = run_titles(every, models.short_name)
    named = {YOURS + run.label: by_number[run.number] for run in every}
    titles = {option: _("Yours: {model}").format(model=title) for option, title in named.items()}
    choice = st.sidebar.selectbox(_("Model"), options, format_func=lambda option: titles.get(option, option_title(option)),
                                  **widgets.remembered(f"{key}_model", options=options),
                                  help=_("ImageNet's models know 1,000 everyday things. Yours know the classes "
                                         "you trained them on (Train page), or that a saved export names."))
    if choice not in mine and choice.startswith(YOURS):  # Resting, and its kept weights could not make it again.
        widgets.show_error(_("The model of this run could not be made again from its kept weights (the file is "
                             "damaged, or its feature extractor cannot be loaded). Pick another model, or train "
                             "it again."))
        return None
    if choice in mine:
        picked = mine[choice]
        # The whole title again below the picker: a narrow sidebar cuts long options short.
        st.sidebar.caption(_("Your model **{label}**: {labels}. "
                             "Shown beside the ImageNet model it was built on.").format(
                                     label=widgets.plain(named.get(choice, picked.label)),
                                     labels=widgets.name_list(picked.mine.labels)))
        return picked
    if choice == OPEN:
        _open_saved_ui(key)
        st.info(_("Open a saved model in the sidebar: the folder an export was written to, or the .zip "
                  "downloaded from the Train page (from this computer or another)."), icon=":material/folder_open:")
        return None
    if choice == CUSTOM:
        handle = _custom_handle_ui(key)
        if not handle:
            st.info(_("Type a model handle in the sidebar, or pick a model from the list."))
            return None
        return Choice(handle, handle)
    st.sidebar.caption(_(specs[choice].description))
    return Choice(_("{model} (ImageNet)").format(model=models.short_name(specs[choice].handle)), specs[choice].handle)


def suggest_yours_ui(key: str, choice: Choice) -> None:
    """When ImageNet's model is chosen but you have one of your own, offer it with one click."""
    mine = yours()
    if choice.mine is not None or not mine:
        return
    option = next(iter(mine))
    text, button = st.columns([4, 1], vertical_alignment="center")
    text.info(_("You have a model of your own: **{label}**. Try it here, beside "
                "ImageNet's.").format(label=widgets.plain(mine[option].label)), icon=":material/lightbulb:")
    if button.button(_("Use my model"), key=f"{key}_use_mine", icon=":material/swap_horiz:"):
        select(key, option)


def select(key: str, option: str) -> None:
    """Make ``option`` the page's chosen model and show the page again with it."""
    st.session_state[f"kept_{key}_model"] = option
    st.rerun()


def _custom_handle_ui(key: str) -> str:
    st.sidebar.caption(_("A TF Hub or Kaggle URL (needs internet once), or the path of a folder "
                         "holding saved_model.pb, on this computer."))
    handle = st.sidebar.text_input(_("Model handle"), placeholder="https://tfhub.dev/… or /path/to/saved_model",
                                   **widgets.remembered(f"{key}_handle"))
    handle = paths.typed(handle)
    try:
        return room.policy().check_handle(handle) if handle else ""
    except HubDemoError as err:
        widgets.show_error(err, st.sidebar)
        return ""


def _open_saved_ui(key: str) -> None:
    """Open an export from a folder or an uploaded .zip; on success it becomes the chosen model."""
    sidebar = st.sidebar
    source = sidebar.radio(_("Open from"), (FROM_FOLDER, FROM_ZIP), format_func=_, key=f"{key}_open_from")
    try:
        if source == FROM_FOLDER:
            folder = sidebar.text_input(_("Export folder"), placeholder="exports/20261127-134000-flowers-run-2",
                                        key=f"{key}_open_folder")
            folder = paths.typed(folder)
            if not (sidebar.button(_("Open"), key=f"{key}_open_button", icon=":material/folder_open:")
                    and folder):
                return
            with st.spinner(_("Opening the saved model and checking it…")):
                export = saved.open_folder(room.policy().check_folder(folder, N_("saved models"), classroom.MODEL_SOURCES))
        else:
            # A new uploader after each opened archive: the old upload must not open again.
            uploads = st.session_state.setdefault(f"{key}_open_zips", 0)
            upload = sidebar.file_uploader(_("Export .zip"), type=["zip"], key=f"{key}_open_zip_{uploads}")
            if upload is None:
                return
            with st.spinner(_("Checking and opening the archive…")):
                data = upload.getvalue()
                dest, needed = room.zip_destination(data, "models", _("{name} unpacked").format(name=upload.name))
                export = saved.open_zip(data, upload.name, dest=dest, max_bytes=needed)
            st.session_state[f"{key}_open_zips"] = uploads + 1
    except HubDemoError as err:
        widgets.show_error(err, sidebar)
        return
    opened()[export.title] = export
    select(key, YOURS + export.title)
