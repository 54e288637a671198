"""Train: a new last layer on the ImageNet model's features (transfer learning), live, then check and export it."""

import streamlit as st

import cached
import widgets
from hubdemo import charts, export, pipeline, training
from hubdemo.errors import HubDemoError

widgets.use_router()
st.title("Teach the model your own classes")
st.markdown(
    "**Transfer learning**: keep the ImageNet network's knowledge of shapes and textures (its *features*, "
    "1,280 numbers per photo), and train only a new last layer that maps those features to *your* classes. "
    "It needs a few hundred photos and a minute on a laptop, not a million photos and a data centre.")


def settings_ui() -> training.TrainConfig:
    """The training settings, with the tutorial's defaults; advanced ones folded away."""
    d = training.TrainConfig()
    a, b, c, e, f = st.columns(5)
    epochs = a.number_input("Epochs", 1, 200, d.epochs, key="epochs",
                            help="How many times the model sees every training photo.")
    batch = b.number_input("Batch size", 1, 512, d.batch_size, key="batch_size",
                           help="Photos per training step.")
    rate = c.number_input("Learning rate", 1e-6, 1.0, d.learning_rate, step=0.0005, format="%.4f", key="learning_rate",
                          help="How big each step is. Too big: the loss jumps around. Too small: slow.")
    split = e.slider("Validation share", 0.05, 0.5, d.validation_split, 0.05, key="validation_split",
                     help="Photos held back to check the model on images it never trained on.")
    seed = f.number_input("Seed", 0, 2**31 - 1, d.seed, key="seed", help="Same seed, same split, same result.")
    with st.expander("Advanced"):
        augment = st.toggle("Data augmentation (random flip, rotation, zoom)", key="augment",
                            help="Shows the model varied copies of the training photos. Slower: every "
                                 "epoch must run the whole network again.")
        dropout = st.slider("Dropout before the new layer", 0.0, 0.9, d.dropout, 0.05, key="dropout",
                            help="Randomly hides features while training, so the layer cannot lean on a few.")
        fine_tune = st.toggle("Fine-tune the whole network", key="fine_tune",
                              help="Trains every layer, not just the new one. Much slower; use a learning "
                                   "rate near 0.00001.")
        if fine_tune:
            st.caption("Fine-tuning also updates the network's BatchNormalization statistics from your "
                       "batches; with small batches they get noisy, so keep the batch size at 32 or more "
                       "and the learning rate low.")
    return training.TrainConfig(epochs=int(epochs), batch_size=int(batch), learning_rate=float(rate),
                                validation_split=float(split), seed=int(seed), augment=augment,
                                dropout=float(dropout), fine_tune=fine_tune)


def progress_text(snap: training.RunSnapshot) -> str:
    if snap.status == "extracting":
        done, total = snap.extracted
        return f"Computing features: {done} of {total} photos (once per photo, then cached)"
    left = f" · about {snap.seconds_left:.0f} s left" if snap.seconds_left is not None else ""
    return (f"Epoch {min(snap.epoch + 1, snap.total_epochs)} of {snap.total_epochs} · step {snap.step} of "
            f"{snap.steps_per_epoch}{left}")


def live_ui() -> None:
    """Progress, Stop and the live charts; polls the run while it trains (no st.* call in the thread)."""
    run: training.TrainingRun = st.session_state["training_run"]
    snap = run.snapshot()
    if run.running:
        bar, stop = st.columns([5, 1], vertical_alignment="center")
        bar.progress(snap.fraction_done, progress_text(snap))
        if stop.button("Stop", icon=":material/stop_circle:", key="stop_training", width="stretch"):
            run.stop()
    elif snap.status == "error":
        st.error(snap.message, icon=":material/error:")
    elif snap.message:
        st.info(snap.message)
    if snap.batches:
        loss, accuracy = st.columns(2)
        loss.altair_chart(charts.training_curve(snap.batches, snap.epochs, "loss"))
        accuracy.altair_chart(charts.training_curve(snap.batches, snap.epochs, "accuracy"))
    if not run.running and not getattr(run, "page_refreshed", False):
        run.page_refreshed = True  # One full rerun to show the results below, then stop polling.
        st.rerun()


def evaluation_ui(result: training.TrainedModel) -> None:
    """Validation accuracy, per class, the confusion matrix (click a cell) and the mistakes."""
    ev = result.evaluation
    st.subheader("How good is it?")
    acc, images, seconds = st.columns(3)
    acc.metric("Validation accuracy", f"{ev.accuracy:.1%}")
    images.metric("Validation photos", len(ev.files))
    seconds.metric("Training time", f"{result.seconds:.1f} s")
    per_class, confusion = st.columns([2, 3])
    per_class.markdown("**Right, per class**")
    per_class.altair_chart(charts.per_class_accuracy(ev.per_class))
    confusion.markdown("**Confusion matrix** (click a cell to see its photos)")
    event = confusion.altair_chart(charts.confusion_heatmap(ev.confusion, ev.class_names), on_select="rerun",
                                   key="confusion", width="content")
    picked = (event.selection.get(charts.CONFUSION_SELECTION) or [None])[0] if event else None
    if picked:
        names = list(ev.class_names)
        files = ev.cell_files(names.index(picked["true"]), names.index(picked["predicted"]))
        st.markdown(f"**{len(files)} photo(s) of {picked['true']} predicted as {picked['predicted']}**")
        gallery_ui([(str(f), "") for f in files])
    mistakes = ev.mistakes
    with st.expander(f"Mistakes on validation photos ({len(mistakes)})", expanded=bool(mistakes)):
        gallery_ui([(str(m.file), f"{m.true} → {m.predicted} ({m.probability:.0%})") for m in mistakes[:30]])


def gallery_ui(items: list[tuple[str, str]], per_row: int = 6) -> None:
    for start in range(0, len(items), per_row):
        for column, (path, caption) in zip(st.columns(per_row), items[start:start + per_row]):
            thumb = cached.thumbnail(path, 160)
            if thumb is not None:
                column.image(thumb, caption=caption or None)


def export_ui(result: training.TrainedModel) -> None:
    """Save as a SavedModel + labels.txt, prove it reloads identically, zip it, convert to TFLite."""
    st.subheader("Export it")
    st.markdown("The export is a TensorFlow **SavedModel** with the hub layer's weights inside, plus "
                "`labels.txt`: it works on any computer with TensorFlow, without this app or TF Hub.")
    exported = st.session_state.get("exported_model")
    if exported is None or exported["result"] is not result:
        if not st.button("Export the model", icon=":material/save:", key="export", type="primary"):
            return
        with st.spinner("Saving and reloading the model to check it…"):
            folder = export.save(result.model, result.class_names,
                                 export.exports_dir() / export.export_name(result.dataset_name))
            images = next(iter(pipeline.image_batches(list(result.evaluation.files[:32]), result.image_size)))[0]
            expected = result.model(images, training=False).numpy()
            diff = export.reload_max_abs_diff(folder, images.numpy(), expected)
        exported = st.session_state["exported_model"] = {"result": result, "folder": folder, "diff": diff,
                                                 "images": images.numpy(), "expected": expected}
    folder = exported["folder"]
    st.success(f"Saved to `{folder}`. Reloaded and compared on {len(exported['images'])} validation photos: "
               f"largest difference in predictions **{exported['diff']:.1e}**"
               + (" (identical)." if exported["diff"] == 0 else "."), icon=":material/verified:")
    st.download_button("Download as .zip", export.zip_bytes(folder), file_name=f"{folder.name}.zip",
                       mime="application/zip", icon=":material/download:")
    st.code(export.usage_snippet(folder, result.image_size), language="python")
    tflite_ui(exported)


def tflite_ui(exported: dict) -> None:
    st.markdown("**TensorFlow Lite** runs the model on phones and small boards.")
    if "tflite" not in exported:
        if not st.button("Convert to TFLite", key="tflite"):
            return
        rows = []
        with st.spinner("Converting (float, then with 8-bit weights)…"):
            for label, quantize in (("float32", False), ("dynamic-range quantised", True)):
                model_bytes = export.to_tflite(exported["folder"], quantize=quantize)
                lite = export.tflite_predictions(model_bytes, exported["images"])
                agree = (lite.argmax(1) == exported["expected"].argmax(1))
                rows.append({"TFLite model": label, "Size": f"{len(model_bytes) / 1e6:.1f} MB",
                             "Agrees with Keras": f"{agree.sum()} of {len(agree)}"})
        exported["tflite"] = rows
    st.table(exported["tflite"])


dataset = widgets.dataset_ui()
if dataset is None:
    st.stop()
widgets.summary_ui(dataset)
handle = widgets.model_picker_ui("feature_vector", key="train")
extractor = cached.extractor_ui(handle) if handle else None
if extractor is None:
    st.stop()

st.subheader("Settings")
config = settings_ui()
with st.expander("The model: the hub layer, then a new Dense layer"):
    rows = training.parameter_summary(extractor.layer, extractor.dim, len(dataset.class_names), config)
    st.dataframe(rows, hide_index=True)
    trainable = sum(r["Trainable"] for r in rows)
    st.caption(f"Trainable parameters: {trainable:,} · frozen: {sum(r['Parameters'] for r in rows) - trainable:,}")

run = st.session_state.get("training_run")
if st.button("Train", icon=":material/play_arrow:", type="primary", key="train",
             disabled=bool(run and run.running)):
    try:
        config.check()
        st.session_state["training_run"] = run = training.start(dataset, config, handle, extractor)
    except HubDemoError as err:
        st.error(str(err), icon=":material/error:")

if run is not None:
    st.fragment(live_ui, run_every=1.0 if run.running else None)()
    if run.result is not None and not run.running:
        st.session_state["trained"] = run.result
        evaluation_ui(run.result)
        export_ui(run.result)
