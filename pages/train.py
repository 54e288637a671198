"""Train: a new last layer on the ImageNet model's features (transfer learning), live; every run kept, checked, exported."""

import dataclasses
import functools

import streamlit as st

import cached
import camera
import model_picker
import room
import widgets
from hubdemo import bundled, charts, compare, datasets, export, lite, models, notebook, runs, saved, training
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _
from hubdemo.runs import Run, RunBook, TrainConfig

COMPARED_AT_MOST = 8  # New runs join the runs chart; beyond this many the oldest leave it.

widgets.use_router()
st.title(_("Teach the model your own classes"))
st.markdown(
    _("**Transfer learning**: keep the ImageNet network's knowledge of shapes and textures (its *features*, "
      "1,280 numbers per photo), and train only a new last layer that maps those features to *your* classes. "
      "It needs a few hundred photos and a minute on a laptop, not a million photos and a data centre."))


def settings_ui(locked: bool, handle: str, dataset: datasets.Dataset, input_size: int) -> TrainConfig:
    """The training settings, with the tutorial's defaults; advanced ones folded away; locked while a run trains."""
    d = TrainConfig()
    keep = widgets.remembered
    a, b, c, e, f = st.columns(5)
    epochs = a.number_input(_("Epochs"), 1, 200, disabled=locked, **keep("epochs", d.epochs),
                            help=_("How many times the model sees every training photo."))
    batch = b.number_input(_("Batch size"), 1, 512, disabled=locked, **keep("batch_size", d.batch_size),
                           help=_("Photos per training step."))
    rate = c.number_input(_("Learning rate"), 1e-6, 1.0, step=0.0005, format="%.4f", disabled=locked,
                          **keep("learning_rate", d.learning_rate),
                          help=_("How big each step is. Too big: the loss jumps around. Too small: slow. "
                                 "Try 0.02, 0.002 and 0.0002 and compare the runs below."))
    split = e.slider(_("Validation share"), 0.05, 0.5, step=0.05, disabled=locked,
                     **keep("validation_split", d.validation_split),
                     help=_("Photos held back to check the model on images it never trained on."))
    seed = f.number_input(_("Seed"), 0, 2**31 - 1, disabled=locked, **keep("seed", d.seed),
                          help=_("Same seed, same split, same result."))
    with st.expander(_("Advanced")):
        augment = st.toggle(_("Data augmentation (random flip, rotation, zoom)"), disabled=locked,
                            **keep("augment", d.augment),
                            help=_("Shows the model varied copies of the training photos. Slower: every "
                                   "epoch must run the whole network again."))
        if augment:
            augmentation_ui(dataset, input_size)
        dropout = st.slider(_("Dropout before the new layer"), 0.0, 0.9, step=0.05, disabled=locked,
                            **keep("dropout", d.dropout),
                            help=_("Randomly hides features while training, so the layer cannot lean on a few."))
        fine_tune = st.toggle(_("Fine-tune the whole network"), disabled=locked, **keep("fine_tune", d.fine_tune),
                              help=_("Trains every layer, not just the new one. Much slower; use a learning "
                                     "rate near 0.00001."))
        scratch = st.toggle(_("Train from scratch: the same network, random weights, no ImageNet"),
                            disabled=locked or not bundled.features_network(handle),
                            **keep("from_scratch", d.from_scratch),
                            help=_("What transfer learning saves you: the network starts knowing nothing and "
                                   "must learn shapes and textures from your photos alone. Needs one of the "
                                   "bundled EfficientNet-Lite networks."))
        if fine_tune:
            st.caption(_("Fine-tuning also updates the network's BatchNormalization statistics from your "
                         "batches; with small batches they get noisy, so keep the batch size at 32 or more "
                         "and the learning rate low."))
    return TrainConfig(epochs=int(epochs), batch_size=int(batch), learning_rate=float(rate),
                       validation_split=float(split), seed=int(seed), augment=augment,
                       dropout=float(dropout), fine_tune=fine_tune,
                       from_scratch=scratch and bool(bundled.features_network(handle)))


def augmentation_ui(dataset: datasets.Dataset, input_size: int) -> None:
    """What augmentation does, shown: one of the dataset's photos as the model sees it, then copies of it as
    training makes them; another photo at a click."""
    draw = st.session_state.get("augment_draw", 0)
    classes = len(dataset.class_names)  # Each click, the next class; once round them all, other photos of each.
    in_class = [i for i, label in enumerate(dataset.labels) if label == draw % classes] or range(len(dataset.files))
    index = in_class[(draw // classes) * 7 % len(in_class)]
    found = cached.augmented_copies(str(dataset.files[index]), input_size, seed=draw)
    if found is None:  # An unreadable photo: the next click shows another.
        st.caption(_("This photo cannot be read ({name}).").format(name=widgets.plain(dataset.files[index].name)))
    else:
        photo, copies = found
        st.image([photo, *copies], width=112, clamp=True,
                 caption=[widgets.plain(dataset.class_names[dataset.labels[index]]),
                          *(_("copy {n}").format(n=n) for n in range(1, len(copies) + 1))])
    st.caption(_("Every epoch, each training photo comes out a little different, like these copies: mirrored or "
                 "not, turned up to 36°, zoomed up to 10% in or out. The new layer learns what the class looks "
                 "like, not the exact pixels of a few hundred photos."))
    st.button(_("Another photo"), icon=":material/refresh:", key="augment_another",
              on_click=lambda: st.session_state.update(augment_draw=draw + 1))


def live_ui(run: Run) -> None:
    """Progress, Stop and the live charts; polls the run while it trains (no st.* call in the thread)."""
    snap = run.snapshot()
    if run.running:
        bar, stop = st.columns([5, 1], vertical_alignment="center")
        bar.progress(snap.fraction_done, snap.progress_text())
        queued = snap.status == "queued"
        if stop.button(_("Cancel") if queued else _("Stop"), icon=":material/stop_circle:", key="stop_training",
                       width="stretch"):
            run.stop()
    elif snap.status == "error":
        widgets.show_error(snap.message)
    elif snap.message:
        st.info(snap.message)
    if snap.batches:
        loss, accuracy = st.columns(2)
        loss.altair_chart(charts.training_curve(snap.batches, snap.epochs, "loss"))
        accuracy.altair_chart(charts.training_curve(snap.batches, snap.epochs, "accuracy"))
    refreshed = st.session_state.setdefault("refreshed_runs", set())
    if not run.running and run.number not in refreshed:
        refreshed.add(run.number)  # One full rerun to show the results below, then stop polling.
        st.rerun()


def run_ui(run: Run, dataset: datasets.Dataset) -> None:
    """One run: its settings, live progress, then how good it is, and its export."""
    st.subheader(_("Run {number} · {dataset_name}").format(
            number=run.number, dataset_name=widgets.plain(_(run.dataset_name))))
    st.caption(run.describe(models.short_name(run.feature_handle)))
    st.fragment(live_ui, run_every=1.0 if run.running else None)(run)
    if run.running or run.evaluation is None:
        return
    if model_picker.runs().can_bring_back(run):  # An earlier run, picked to look at again: its model made again.
        model_picker.bring_back(run)
    ev = run.evaluation
    what = _("{label} on its {photos}").format(label=run.label, photos=widgets.count(len(ev.files), "validation photo"))
    st.markdown(_("#### How good is it? · {label}").format(label=widgets.plain(run.label)))
    acc, photos, seconds = st.columns(3)
    acc.metric(_("Validation accuracy"), f"{ev.accuracy:.1%}")
    photos.metric(_("Validation photos"), len(ev.files))
    seconds.metric(_("Training time"), f"{run.seconds:.1f} s")
    if run.dataset_key == dataset.fingerprint:
        for warning in datasets.validation_warnings(
                dataset, datasets.split(dataset, run.config.validation_split, run.config.seed)):
            st.warning(widgets.plain(warning), icon=":material/straighten:")
    widgets.evaluation_ui(ev, key=f"run{run.number}", what=what, model=run.model)
    if run.model is None:
        if run.export_folder and saved.is_export(run.export_folder):
            reopen_ui(run)
        else:
            st.caption(_("The model of run {number} is no longer in memory (only the newest "
                         "{keep_models} runs keep theirs); its numbers and curves are kept.").format(
                                 number=run.number, keep_models=model_picker.runs().keep_models))
        return
    try_ui(run.label, model_picker.YOURS + run.label)
    if run.dataset_key == dataset.fingerprint:
        scratch_ui(run, dataset)
        code_ui(run, dataset)
    else:  # Both need the run's own photos: the code loads their folder, from scratch trains on them.
        st.caption(_("The code, the notebook and the comparison with training from scratch need the photos "
                     "{label} trained on: choose its dataset ({dataset_name}) above to see them.").format(
                             label=run.label, dataset_name=_(run.dataset_name)))
    export_ui(run)


def reopen_ui(run: Run) -> None:
    """A run whose model was let go (only the newest few keep theirs) but exported: one click opens the export."""
    opened = model_picker.opened()
    title = next((title for title, found in opened.items() if str(found.folder) == run.export_folder), None)
    if title is None:
        st.caption(_("The model of run {number} is no longer in memory (only the newest {keep_models} runs "
                     "keep theirs), but you exported it: open the export to use it again.").format(
                             number=run.number, keep_models=model_picker.runs().keep_models))
        if not st.button(_("Open its export"), icon=":material/folder_open:", key=f"reopen_{run.number}"):
            return
        try:
            with st.spinner(_("Opening the saved model and checking it…")):
                reopened = saved.open_folder(run.export_folder)
        except HubDemoError as err:
            widgets.show_error(err)
            return
        opened[reopened.title] = reopened
        st.rerun()  # The button goes once it has done its work.
    st.caption(_("Run {number}'s model, opened again from its export.").format(number=run.number))
    try_ui(title, model_picker.YOURS + title)


def try_ui(title: str, option: str) -> None:
    """Buttons to use a model (the picker's ``option``, named ``title``) on the other pages."""
    st.markdown(_("#### Try {label}").format(label=widgets.plain(title)))
    live, photos, grid = st.columns(3)
    if live.button(_("On the live camera"), icon=":material/videocam:", key="try_live", width="stretch",
                   type="primary"):
        st.session_state["kept_classifier_model"] = option
        st.session_state["classifier_input"] = camera.LIVE  # The classifier page opens on the video.
        st.switch_page("pages/classifier.py")
    if photos.button(_("On your photos"), icon=":material/photo_camera:", key="try_classifier", width="stretch"):
        st.session_state["kept_classifier_model"] = option
        st.session_state["classifier_input"] = camera.UPLOAD
        st.switch_page("pages/classifier.py")
    if grid.button(_("On the dataset grid"), icon=":material/grid_view:", key="try_grid",
                   help=_("Each photo titled with your model's guess: green when right, red when wrong."),
                   width="stretch"):
        st.session_state["kept_grid_model"] = option
        st.switch_page("pages/grid.py")


def scratch_ui(run: Run, dataset: datasets.Dataset) -> None:
    """One click: the same network from random weights, same photos, split and epochs; both curves together."""
    network = bundled.features_network(run.feature_handle)
    if run.config.from_scratch or not network or not run.config.uses_cached_features:
        return
    expected = widgets.duration(training.whole_network_seconds(len(dataset), run.config.epochs, network))
    st.markdown(_("#### Would a network trained from nothing do as well?"))
    st.markdown(_("Train the same {model} from random weights, on the same photos, split and "
                  "{epochs} epochs. With ImageNet's features this took {seconds:.0f} s; from "
                  "scratch the whole network must run and learn on every photo, every epoch: **{expected}** "
                  "on this computer's CPU. Stop it whenever you have seen enough: the "
                  "curves of both runs are drawn together below.").format(
                          model=lite.variant(network).title, epochs=run.config.epochs, seconds=run.seconds,
                          expected=expected))
    if st.button(_("Train the same from scratch"), icon=":material/restart_alt:", key="from_scratch_run"):
        st.session_state["kept_from_scratch"] = True
        scratch = model_picker.runs().new(dataclasses.replace(run.config, from_scratch=True),
                                          feature_handle=run.feature_handle, dataset_name=dataset.name,
                                          dataset_key=dataset.fingerprint)
        room.start_training(dataset, scratch)
        st.rerun()


def code_ui(run: Run, dataset: datasets.Dataset) -> None:
    """The tutorial-style code for exactly this run, and the same as a notebook that runs without this app."""
    if run.config.from_scratch:
        st.caption(_("Runs from scratch build the network with this app's own code, so they have no notebook."))
        return
    size = run.model.input_size
    with st.expander(_("The code for {label}: TensorFlow Hub and tf_keras, no hubdemo").format(label=run.label)):
        st.code(notebook.training_code(dataset.root, run.feature_handle, run.config, size), language="python")
    st.download_button(
        _("Download as a notebook (.ipynb)"), icon=":material/description:", key=f"notebook_{run.number}",
        data=widgets.in_page_language(lambda: notebook.training_notebook(
            dataset.root, run.feature_handle, run.config, size,
            title=_("{label}: transfer learning with TensorFlow Hub").format(label=run.label))),
        file_name=f"{export.export_name(run.label)}.ipynb", mime="application/x-ipynb+json", on_click="ignore",
        help=_("Reproduces this run in Jupyter or Colab: the same photos, split, settings and validation accuracy."))


def export_ui(run: Run) -> None:
    """One button writes the whole export and checks it; then downloads and the proof."""
    st.markdown(_("#### Export {label}").format(label=widgets.plain(run.label)))
    st.markdown(_("The export is a TensorFlow **SavedModel** with the hub layer's weights inside, `labels.txt`, "
                  "TensorFlow Lite versions for phones (float, and 4× smaller with 8-bit weights) and "
                  "`metadata.json`. It works on any computer with TensorFlow, without this app or TF Hub, and "
                  "this app can open it again (pick *Open a saved model* on the classifier page)."))
    reports = st.session_state.setdefault("exports", {})
    report = reports.get(run.number)
    if report is None:
        slot = st.empty()
        if not slot.button(_("Export run {number}").format(
                number=run.number), icon=":material/save:", key="export", type="primary"):
            return
        slot.empty()  # The button goes once it has done its work.
        with st.status(_("Exporting {label}…").format(label=run.label), expanded=True) as status:
            bar = st.progress(0.0)
            try:
                report = export.export_run(
                    run, room.exports_dir() / export.export_name(run.label),
                    progress=lambda step, done, total: bar.progress(done / total, _(step) + "…"))
            except HubDemoError as err:
                status.update(label=_("The export failed"), state="error")
                widgets.show_error(err)
                return
            status.update(label=_("Exported in {seconds:.0f} s").format(
                    seconds=report.seconds), state="complete", expanded=False)
        reports[run.number] = report
    export_result_ui(report, run)


def export_result_ui(report: export.ExportReport, run: Run) -> None:
    folder = report.folder
    where = _("Saved for you (download it below)") if room.policy().on else _("Saved to `{folder}`").format(
        folder=folder)
    proof = (_("Reloaded and compared on {photos}: largest difference in predictions **{diff:.1e}** (identical).")
             if report.reload_max_abs_diff == 0 else
             _("Reloaded and compared on {photos}: largest difference in predictions **{diff:.1e}**."))
    st.success(f"{where}. " + proof.format(photos=widgets.count(report.checked, "validation photo"),
                                           diff=report.reload_max_abs_diff), icon=":material/verified:")
    st.table([{_("File"): c.file, _("TFLite model"): _(c.kind), _("Size"): f"{c.size_bytes / 1e6:.1f} MB",
               _("Agrees with Keras"): _("{agree} of {checked}").format(agree=c.agree, checked=c.checked)}
              for c in report.tflite])
    whole, *lites = st.columns(1 + len(report.tflite))
    whole.download_button(_("The whole export (.zip)"), lambda: export.zip_bytes(folder), file_name=f"{folder.name}.zip",
                          mime="application/zip", icon=":material/download:", key="download_export",
                          width="stretch", on_click="ignore")
    for column, check in zip(lites, report.tflite):
        column.download_button(_("{file} + labels.txt").format(
                file=check.file), lambda name=check.file: export.tflite_zip_bytes(folder, name),
                               file_name=f"{folder.name}-{check.file.replace('.tflite', '')}.zip",
                               mime="application/zip", icon=":material/smartphone:", width="stretch",
                               key=f"download_{check.file}", on_click="ignore")
    st.code(notebook.your_model_code(model_picker.code_folder(folder), run.model.input_size), language="python")


def runs_ui(book: RunBook) -> None:
    """Every run of this session in a table, and the curves of chosen runs on one chart.

    Drawn as a fragment that refreshes while a run trains: its row (epochs, seconds, status) and its
    curve move with it, instead of showing the moment the page last ran.
    """
    st.subheader(_("All runs this session ({n_runs})").format(n_runs=len(book.runs)))
    # Short, so the table's toolbar (top right, over what is above it) covers no words, on a phone either.
    st.caption(_("Newest first."))
    rows = [run.summary(models.short_name(run.feature_handle)) for run in reversed(book.runs)]
    accuracy = _("Validation accuracy")
    for row in rows:  # As a percentage with one decimal, the same for every run.
        row[accuracy] = None if row[accuracy] is None else 100 * row[accuracy]
    st.dataframe(rows, hide_index=True, column_config={
        accuracy: st.column_config.ProgressColumn(format="%.1f%%", min_value=0.0, max_value=100.0),
        _("Learning rate"): st.column_config.NumberColumn(format="%g")})
    labels = {run.label: run for run in book.runs}
    state = st.session_state
    new = [label for label in labels if label not in state.setdefault("compare_seen", set())]
    if new:  # A new run joins the comparison; runs the user took out stay out.
        kept = state.get("kept_compare_runs", [])  # Kept across a restart too (its runs come back from disk).
        # The newest few: more lines than that tangle, and colours repeat past ten. Older runs can be added back.
        state["kept_compare_runs"] = [*kept, *(label for label in new if label not in kept)][-COMPARED_AT_MOST:]
        state["compare_seen"].update(new)
    picked, metric = st.columns([3, 1])
    chosen = picked.multiselect(_("Runs to compare"), list(labels), **widgets.remembered("compare_runs"))
    metric = metric.selectbox(_("Curve"), list(charts.RUN_METRICS), format_func=lambda m: _(charts.RUN_METRICS[m]),
                              **widgets.remembered("compare_metric"))
    curves = {label: labels[label].snapshot().epochs for label in chosen}
    if chosen and not any(curves.values()):  # Empty axes would look broken: say when the lines come.
        st.info(_("The curves appear here as the runs finish their epochs."), icon=":material/hourglass_top:")
    elif chosen:
        names = runs.compare_names([labels[label] for label in chosen], models.short_name)
        runs_chart_ui({names[label]: curves[label] for label in chosen}, metric)
        if {labels[label].config.from_scratch for label in chosen} == {True, False}:
            st.caption(_("Transfer against from scratch: ImageNet's features know shapes and textures already, so "
                         "a new last layer is right within an epoch or two; from random weights the same photos "
                         "stay near chance (one class in however many you have) for a long time."))
        else:
            st.caption(_("The classic lesson: the same data with learning rates 0.02, 0.002 and 0.0002. Too big "
                         "jumps about, too small crawls."))


def runs_chart_ui(curves: dict[str, list[dict]], metric: str = "val_accuracy") -> None:
    """Runs' curves on one chart, and below it which colour is which run."""
    colours = charts.key_colours(curves)
    st.altair_chart(charts.runs_overlay(curves, metric, colours))
    widgets.colour_key_ui(colours)


def shown_run(book: RunBook) -> Run:
    """The run whose results the page shows: the newest, unless the reader picked an earlier one since it began.

    A new run (Train, from scratch, a comparison) brings the page back to the newest, and so does training:
    the run that trains shows its progress and its Stop button.
    """
    latest = book.latest
    picked = st.session_state.get("kept_shown_run")  # (the run picked, the newest run when it was picked)
    if latest.running or not picked or picked[1] != latest.number:
        return latest
    return book.get(picked[0]) or latest


def pick_run_ui(book: RunBook, shown: Run) -> None:
    """Every run is kept: pick one to see its accuracy, mistakes and model again, try it, export it."""
    if len(book.runs) < 2:
        return
    state = st.session_state
    state["shown_run"] = shown.number
    newest = book.latest.number
    # Newest first, chosen by number, so a choice holds while runs start and finish; each named with what
    # sets it apart (its model, its settings) and its accuracy, to find "the one with learning rate 0.02".
    # The names as they are now: a run finishing meanwhile must not rename an option already drawn.
    titles = runs.titles(list(reversed(book.runs)), models.short_name)
    st.selectbox(_("Show the results of"), list(titles), format_func=titles.get,
                 key="shown_run", disabled=book.latest.running,
                 on_change=lambda: state.update(kept_shown_run=(state["shown_run"], newest)),
                 help=_("Every run is kept: look again at an earlier run's accuracy and mistakes, try its "
                        "model or export it."))


def compare_ui(dataset: datasets.Dataset, config: TrainConfig, handle: str, book: RunBook) -> None:
    """Which model should I use? The same head on two to four feature extractors, measured side by side."""
    st.subheader(_("Which model should I use?"))
    st.markdown(_("Train the same new last layer on two or three feature extractors, with the settings above and "
                  "the same split, and compare how right, how fast and how big each one is. Each model computes "
                  "its features once per photo; a second comparison takes seconds."))
    offered = [spec.handle for spec in models.catalogue("feature_vector")]
    chosen = st.multiselect(_("Feature extractors"), offered, format_func=models.short_name,
                            max_selections=compare.MAX_MODELS,
                            **widgets.remembered("compare_models", [h for h in offered if bundled.is_bundled(h)][::2]))
    key = (dataset.fingerprint, config, tuple(chosen))
    if not config.uses_cached_features:
        st.info(_("A comparison trains only a new last layer: turn off augmentation, fine-tuning and training "
                  "from scratch above."), icon=":material/info:")
    elif st.button(_("Compare"), icon=":material/compare_arrows:", key="compare_button",
                   disabled=len(chosen) < 2 or book.running is not None):
        bar = st.progress(0.0)
        if room.policy().on:  # The runs wait for the class's trainers: a click stops waiting (room.train_and_wait).
            st.button(_("Cancel the comparison"), icon=":material/cancel:", key="compare_cancel")
        # The sidebar's model goes last: its run is then the newest, and the page's results stay current.
        order = sorted(chosen, key=lambda h: h == handle)
        step = {}

        def show(model, done, total):
            step.update(done=done, total=total, text=_("Training a new last layer on {model} ({number} of {total})…")
                        .format(model=model, number=done + 1, total=total))
            bar.progress(done / total, step["text"])

        def waiting(run):  # In a classroom: the queue's word on this model's run.
            bar.progress(step["done"] / step["total"], f"{step['text']} {run.snapshot().progress_text()}")
        try:
            entries = compare.compare(dataset, order, config, book=book, extractor_for=cached.extractor,
                                      progress=show, train=functools.partial(room.train_and_wait, waiting=waiting))
        except HubDemoError as err:
            widgets.show_error(err)
            return
        finally:
            bar.empty()
        st.session_state["comparison"] = (key, sorted(entries, key=lambda e: chosen.index(e.model)))
        st.rerun()  # The runs table above gains the comparison's runs.
    kept = st.session_state.get("comparison")
    if kept is None:
        return
    if kept[0] == key:
        comparison_result_ui(kept[1])
    else:
        with st.expander(_("The last comparison (made with other data, settings or models)")):
            comparison_result_ui(kept[1])


def comparison_result_ui(entries: list[compare.Entry]) -> None:
    """The models side by side: a table, their validation curves together, and what it means."""
    accuracy = _("Validation accuracy")
    st.dataframe([{_("Model"): models.short_name(e.run.feature_handle), accuracy: 100 * e.val_accuracy,
                   _("ms per photo"): round(e.ms_per_image, 1), _("Export (MB)"): round(e.export_mb, 1),
                   _("Parameters"): e.parameters, _("Run"): e.run.label} for e in entries],
                 hide_index=True, column_config={
                     accuracy: st.column_config.ProgressColumn(format="%.1f%%", min_value=0.0, max_value=100.0),
                     _("Parameters"): st.column_config.NumberColumn(format="localized")})
    names = compare.names(entries)
    runs_chart_ui({names[e.run.label]: e.run.snapshot().epochs for e in entries})
    fastest, best = compare.fastest_and_best(entries)
    st.caption(_("{best} was the most accurate ({accuracy:.1%}); {fastest} the fastest ({ms:.1f} ms a photo). A "
                 "bigger network sees more detail, and costs time and memory: on a phone, or on a camera's live "
                 "video, every millisecond counts.").format(
        best=names[best.run.label], accuracy=best.val_accuracy, fastest=names[fastest.run.label],
        ms=fastest.ms_per_image))


dataset, handle, extractor = model_picker.dataset_and_extractor_ui("train")

book = model_picker.runs()
running = book.running
st.subheader(_("Settings"))
config = settings_ui(locked=running is not None, handle=handle, dataset=dataset, input_size=extractor.input_size)
chosen = datasets.split(dataset, config.validation_split, config.seed)
st.caption(datasets.split_words(dataset, chosen))
if running is not None:
    st.caption(_("The settings are locked while run {number} trains. Stop it to change them.").format(
            number=running.number))
elif config.from_scratch:
    st.warning(_("From scratch, the whole network trains on every photo, every epoch: "
                 "{duration} on this computer's "
                 "CPU for these settings, against seconds for a head on ImageNet's features.").format(
                         duration=widgets.duration(training.whole_network_seconds(
                             len(dataset), config.epochs, bundled.features_network(handle) or lite.LITE0))),
               icon=":material/hourglass:")
latest = book.latest
shown = shown_run(book) if latest is not None else None
current = shown is not None and (shown.running or shown.matches(dataset.fingerprint, config, handle))
if not current:  # With current results, the warnings stand beside their accuracy instead.
    for warning in datasets.validation_warnings(dataset, chosen):
        st.warning(widgets.plain(warning), icon=":material/straighten:")
with st.expander(_("The model: the hub layer, then a new Dense layer")):
    rows = training.parameter_summary(extractor.layer, extractor.dim, len(dataset.class_names), config)
    st.dataframe(rows, hide_index=True)
    trainable = sum(r[_("Trainable")] for r in rows)
    st.caption(_("Trainable parameters: {trainable:,} · frozen: {frozen:,}").format(
        trainable=trainable, frozen=sum(r[_("Parameters")] for r in rows) - trainable))

if st.button(_("Train"), icon=":material/play_arrow:", type="primary", key="train", disabled=running is not None):
    try:
        config.check()
        run = book.new(config, feature_handle=handle, dataset_name=dataset.name, dataset_key=dataset.fingerprint)
        room.start_training(dataset, run, extractor)
        st.rerun()  # Lock the settings at once.
    except HubDemoError as err:
        widgets.show_error(err)

if latest is not None:
    pick_run_ui(book, shown)
    if current:
        run_ui(shown, dataset)
    else:
        changes = shown.changes_since(dataset, config, handle, models.short_name(handle))
        st.warning(_("The results of **{label}** below were made with other data or settings: "
                     "you have since changed {changes}. Press "
                     "**Train** for run {number} with what you see above.").format(
                         label=widgets.plain(shown.label), changes=widgets.plain('; '.join(changes)),
                         number=latest.number + 1), icon=":material/history:")
        if shown is latest:  # Folded away: the reader changed the settings and did not ask for these.
            with st.expander(_("Results of {label} (earlier data or settings)").format(label=shown.label),
                             expanded=False):
                run_ui(shown, dataset)
        else:  # Picked on purpose: shown, under the warning.
            run_ui(shown, dataset)
    st.fragment(runs_ui, run_every=2.0 if book.running else None)(book)
compare_ui(dataset, config, handle, book)
