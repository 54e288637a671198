"""Look inside: why transfer learning works. The feature map, how many photos you need, and where to see more."""

import streamlit as st

import cached
import model_picker
import widgets
from hubdemo import charts, datasets, learning_curve, models, notebook, projection
from hubdemo.runs import TrainConfig

widgets.use_router()
st.title("Look inside: why does transfer learning work?")
st.markdown(
    "A network trained on ImageNet turns every photo into **features**: 1,280 numbers that describe what is in "
    "it. Transfer learning works because those numbers already tell your classes apart, before any training: "
    "see it on the map below. Then see how few photos a new last layer needs to learn them.")


def features_ui(dataset: datasets.Dataset, extractor):
    """Every photo's feature vector (computed once, then from the cache), with a progress bar the first time."""
    stamps = hash(tuple(datasets.file_stamp(f) for f in dataset.files))
    key = (extractor.handle, dataset.fingerprint, stamps)

    def compute():
        bar = st.progress(0.0, "Computing each photo's features (once per photo, then cached)…")
        try:
            return extractor.extract(list(dataset.files), progress=lambda done, total: bar.progress(
                done / total if total else 1.0, f"Computing features: {done} of {total} photos…"))
        finally:
            bar.empty()
    return widgets.session_memo("inside_features", key, compute)


def map_ui(dataset: datasets.Dataset, feats, skipped, key: tuple) -> None:
    """The dataset's features in two dimensions, coloured by class; hover for the photo, click to open it."""
    method = st.radio("Layout", projection.METHODS, format_func=projection.TITLES.get, horizontal=True,
                      **widgets.remembered("inside_map_method", "pca"),
                      help="PCA: instant, keeps the directions the photos differ most in. t-SNE and UMAP: a few "
                           "seconds, keep neighbours together, so groups show more clearly.")
    wait = {"pca": "Laying out the photos…", "tsne": "t-SNE is arranging the photos (a few seconds)…",
            "umap": "UMAP is arranging the photos (the first time it prepares itself: about 15 seconds)…"}[method]
    with st.spinner(wait, show_time=True):
        points = widgets.session_memo(f"inside_map_{method}", key,
                                      lambda: projection.feature_map(dataset, feats, skipped, method))
    run = model_picker.latest_run_on(dataset, key[0])
    wrong = {str(m.file) for m in run.evaluation.mistakes} if run is not None else set()
    rows = [{"file": p.file, "label": p.label, "x": p.x, "y": p.y, "image": cached.thumbnail_uri(p.file),
             "mistake": p.file in wrong} for p in points]
    event = st.altair_chart(charts.feature_map(rows, projection.TITLES[method]), on_select="rerun",
                            key="inside_map")
    captions = [f"Each dot is one of {widgets.count(len(points), 'photo')}, placed by its {len(feats[0]):,} "
                f"features ({projection.TITLES[method]}). Hover for the photo, click to open it."]
    if run is not None:
        captions.append(f"Ringed in red: the {widgets.count(len(wrong), 'validation photo')} "
                        f"{widgets.plain(run.label)} gets wrong. Mistakes sit where the classes overlap.")
    else:
        captions.append("Train a model on this dataset (Train page) and its mistakes are ringed here.")
    st.caption(" ".join(captions))
    picked = (event.selection.get(charts.MAP_SELECTION) or [None])[0] if event else None
    if picked:
        chosen = next(r for r in rows if r["file"] == picked["file"])
        photo, words = st.columns([1, 3])
        photo.image(cached.thumbnail(chosen["file"], 240))
        verdict = " · wrongly predicted by " + run.label if chosen["mistake"] else ""
        words.markdown(f"**{widgets.plain(chosen['label'])}**{widgets.plain(verdict)}  \n"
                       f"`{widgets.plain(chosen['file'])}`")


def curve_ui(dataset: datasets.Dataset, feats, skipped, key: tuple) -> None:
    """Accuracy against photos per class, several draws each, on the same validation photos."""
    settings = TrainConfig(validation_split=st.session_state.get("kept_validation_split", 0.2),
                           seed=st.session_state.get("kept_seed", 0))
    split = datasets.split(dataset, settings.validation_split, settings.seed)
    train_idx = [i for i in split.train if i not in skipped]
    val_idx = [i for i in split.validation if i not in skipped]
    curve_key = (*key, settings.validation_split, settings.seed)
    points = st.session_state.get("inside_curve")
    st.markdown(f"A new last layer trained on 1, 2, 5, 10, 20, 50 photos per class, {learning_curve.DRAWS} "
                f"random draws each, all judged on the same {widgets.count(len(val_idx), 'validation photo')}. "
                "It takes a few seconds: the features are computed already.")
    if points is None or points[0] != curve_key:
        slot = st.empty()
        if not slot.button("Draw the learning curve", icon=":material/show_chart:", key="learning_curve"):
            return
        slot.empty()
        bar = st.progress(0.0, "Training…")
        found = learning_curve.learning_curve(
            feats, dataset.labels, train_idx, val_idx, seed=settings.seed,
            progress=lambda done, total: bar.progress(done / total, f"Training {done} of {total} last layers…"))
        bar.empty()
        points = st.session_state["inside_curve"] = (curve_key, found)
    found = points[1]
    st.altair_chart(charts.learning_curve([p.as_dict() for p in found]))
    best, first = found[-1], found[0]
    st.caption(f"With {widgets.count(first.per_class, 'photo')} per class the new layer is right on "
               f"{first.accuracy:.0%} of the validation photos (from {first.low:.0%} to {first.high:.0%} depending on "
               f"which photos were drawn); with all of them ({best.per_class} per class), {best.accuracy:.0%}. The "
               "bars show how much the choice of photos matters. Chance would be "
               f"{1 / len(dataset.class_names):.0%}.")


dataset, handle, extractor = model_picker.dataset_and_extractor_ui("inside")
feats, skipped = features_ui(dataset, extractor)
memo_key = (handle, dataset.fingerprint, len(skipped))

st.subheader("The feature map")
st.markdown(f"What **{widgets.plain(models.short_name(handle))}** makes of your photos before any training: "
            "photos with similar features land close together.")
map_ui(dataset, feats, skipped, memo_key)
with st.expander("The code: features of every photo, laid out in two dimensions"):
    st.code(notebook.feature_map_code(dataset.root, handle, st.session_state.get("kept_inside_map_method", "pca"),
                                      extractor.input_size), language="python")

st.subheader("How many photos do you need?")
curve_ui(dataset, feats, skipped, memo_key)

st.subheader("More ways to look inside")
st.markdown("- **Where is it looking?** On the classifier page, a heatmap over each photo shows where ImageNet's "
            "model and yours found the evidence for their answers; the grid and the mistakes can show it too.\n"
            "- **Would a network trained from nothing do as well?** After a run on the Train page, one click trains "
            "the same network from random weights and draws both runs' curves together.")
left, right = st.columns(2)
left.page_link("pages/classifier.py", label="Classify photos", icon=":material/image_search:")
right.page_link("pages/train.py", label="Train", icon=":material/model_training:")
