"""Look inside: why transfer learning works. The feature map, how many photos you need, and where to see more."""

import numpy as np
import streamlit as st

import cached
import model_picker
import widgets
from hubdemo import charts, datasets, i18n, learning_curve, models, notebook, projection
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _, sentences
from hubdemo.runs import TrainConfig

widgets.use_router()
st.title(_("Look inside: why does transfer learning work?"))
st.markdown(
    _("A network trained on ImageNet turns every photo into **features**: 1,280 numbers that describe what is in "
      "it. Transfer learning works because those numbers already tell your classes apart, before any training: "
      "see it on the map below. Then see how few photos a new last layer needs to learn them."))


def features_ui(dataset: datasets.Dataset, extractor):
    """Every photo's feature vector (computed once, then from the cache), with a progress bar the first time."""
    stamps = hash(tuple(datasets.file_stamp(f) for f in dataset.files))
    key = (extractor.handle, dataset.fingerprint, stamps)

    def compute():
        bar = st.progress(0.0, _("Computing each photo's features (once per photo, then cached)…"))
        try:
            return extractor.extract(list(dataset.files), progress=lambda done, total: bar.progress(
                done / total if total else 1.0, _("Computing features: {done} of {total} photos…").format(
                        done=done, total=total)))
        finally:
            bar.empty()
    return widgets.session_memo("inside_features", key, compute)


PLACED_AT_MOST = 5  # Photos of one's own on the map at once: more stars would hide the map.


def own_photos(uploads, extractor) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Photos just uploaded as ``(name, the photo as the model sees it (square), its feature vector)``, each worked
    out once per photo and model; a photo that cannot be read is said on the page and left out."""
    kept = st.session_state.setdefault("inside_own_photos", {})
    asked = {(extractor.handle, u.file_id): u for u in uploads[:PLACED_AT_MOST]}
    for key in set(kept) - set(asked):  # Photos removed from the uploader, or seen by another model.
        del kept[key]
    found = []
    for key, upload in asked.items():
        if key not in kept:
            try:
                kept[key] = (upload.name, *extractor.photo(upload.getvalue(), upload.name))
            except HubDemoError as err:
                kept[key] = str(err)
        if isinstance(kept[key], str):
            widgets.show_error(kept[key])
        else:
            found.append(kept[key])
    if len(uploads) > PLACED_AT_MOST:
        st.caption(_("The map shows the first {shown} of your {count} photos.").format(
                shown=PLACED_AT_MOST, count=len(uploads)))
    return found


def verdicts(run, own) -> list[models.Prediction] | None:
    """What ``run``'s model (trained on this map's photos) calls each placed photo, once per photo and model;
    None without a run whose model is in memory."""
    model = run.model if run is not None else None
    if model is None or not own:
        return None
    key = (model.uid, tuple(hash(vector.tobytes()) for _name, _photo, vector in own))
    return widgets.session_memo("inside_verdicts", key, lambda: [
        model.top_k(probs, 1)[0] for probs in model.probabilities(
                np.stack([photo for _name, photo, _vector in own]) / np.float32(255))])


def landed_ui(found: projection.Placed, photo: np.ndarray, name: str, star: str, usual: projection.Usual,
              dataset_name: str, verdict: str | None) -> None:
    """A photo placed on the map beside its nearest photos by features: why it landed where it did; for a
    photo like nothing in the dataset, that a model taught these classes would still pick one; and what the
    model trained on them calls it."""
    st.markdown(_("#### Where your photo landed · {name}").format(name=widgets.plain(name)))
    near = found.neighbours
    if near[0].similarity < usual.low:
        st.info(_("Nothing in {dataset} is much like “{star}”: its nearest photo is only {best:.2f} alike, while "
                  "the dataset's photos usually have one {usual:.2f} alike. Yet a model taught only these classes "
                  "would still call it one of them: it knows no other answer.").format(
                          dataset=widgets.plain(dataset_name), star=widgets.plain(star), best=near[0].similarity,
                          usual=usual.median), icon=":material/explore_off:")
    if verdict:
        st.markdown(verdict)
    gone = np.full((200, 200, 3), 230, np.uint8)  # A photo deleted since the map was drawn: a grey square.
    st.image([photo, *(cached.thumbnail(n.file, 200) or gone for n in near)], width=112,
             caption=[widgets.plain(star), *(f"{widgets.plain(n.label)} · {n.similarity:.2f}" for n in near)])
    st.caption(_("The star “{star}”, among its {k} nearest photos by their features ({votes}). Photos that look "
                 "alike to the network have similar features (similarity 1: the same features; 0: nothing in "
                 "common), so they land together: that is why a new last layer can learn your classes from a few "
                 "hundred photos.").format(star=widgets.plain(star), k=len(near), votes=i18n.word_list(
                         [f"{widgets.plain(label)} × {n}" for label, n in found.votes()])))


def star_names(names: list[str]) -> list[str]:
    """What each star on the map is called: "your photo" alone; file names, shortened, when there are several."""
    if len(names) == 1:
        return [_("your photo")]
    return [name if len(name) <= 24 else name[:23] + "…" for name in names]


def map_ui(dataset: datasets.Dataset, feats, skipped, key: tuple, extractor) -> list[str]:
    """The dataset's features in two dimensions, coloured by class; hover for the photo, click to open it; photos
    of one's own placed among them. Returns the names of the photos placed."""
    layout, upload_column = st.columns(2)
    method = layout.radio(_("Layout"), projection.METHODS, format_func=lambda m: _(projection.TITLES[m]),
                          horizontal=True, **widgets.remembered("inside_map_method", "pca"),
                          help=_("PCA: instant, keeps the directions the photos differ most in. t-SNE and UMAP: a "
                                 "few seconds, keep neighbours together, so groups show more clearly."))
    uploads = upload_column.file_uploader(_("Place photos of your own on the map"), key="inside_place",
                                accept_multiple_files=True,
                                help=_("Each lands among the dataset's photos whose features are nearest to its own."))
    wait = {"pca": _("Laying out the photos…"), "tsne": _("t-SNE is arranging the photos (a few seconds)…"),
            "umap": _("UMAP is arranging the photos (the first time it prepares itself: about 15 seconds)…")}[method]
    with widgets.spinner(wait):
        points = widgets.session_memo(f"inside_map_{method}", key,
                                      lambda: projection.feature_map(dataset, feats, skipped, method))
    run = model_picker.latest_run_on(dataset, key[0])
    wrong = {str(m.file) for m in run.evaluation.mistakes} if run is not None else set()
    rows = [{"file": p.file, "label": p.label, "x": p.x, "y": p.y, "image": cached.thumbnail_uri(p.file),
             "mistake": p.file in wrong} for p in points]
    own = own_photos(uploads or [], extractor)
    placed = projection.place(np.stack([vector for _name, _photo, vector in own]), feats, skipped, points) if own else []
    names = star_names([name for name, _photo, _vector in own])
    stars = [{"x": p.x, "y": p.y, "name": name} for p, name in zip(placed, names)]
    colours = charts.key_colours(dataset.class_names)
    event = st.altair_chart(charts.feature_map(rows, _(projection.TITLES[method]), colours, stars),
                            on_select="rerun", key="inside_map")
    widgets.colour_key_ui(colours)
    captions = [_("Each dot is one of {photos}, placed by its {features:,} features ({method}). Hover for the "
                  "photo, click to open it.").format(photos=widgets.count(len(points), "photo"),
                                                     features=len(feats[0]), method=_(projection.TITLES[method]))]
    if run is not None and wrong:
        captions.append(_("Ringed in black: the {photos} {model} gets wrong. Mistakes sit where the classes overlap.").format(
            photos=widgets.count(len(wrong), "validation photo"), model=widgets.plain(run.label)))
    elif run is not None:
        captions.append(_("{model} gets every validation photo right: no mistake to ring.").format(
            model=widgets.plain(run.label)))
    else:
        captions.append(_("Train a model on this dataset (Train page) and its mistakes are ringed here."))
    st.caption(sentences(*captions))
    picked = (event.selection.get(charts.MAP_SELECTION) or [None])[0] if event else None
    if picked:
        chosen = next(r for r in rows if r["file"] == picked["file"])
        photo, words = st.columns([1, 3])
        shown = cached.thumbnail(chosen["file"], 240)
        if shown is not None:  # None: deleted since the map was drawn; its name and class still say which it was.
            photo.image(shown)
        verdict = _(" · wrongly predicted by {model}").format(model=run.label) if chosen["mistake"] else ""
        words.markdown(f"**{widgets.plain(chosen['label'])}**{widgets.plain(verdict)}  \n"
                       f"`{widgets.plain(chosen['file'])}`")
    if placed:
        usual = widgets.session_memo("inside_usual", key, lambda: projection.usual_similarity(feats, skipped))
    said = verdicts(run, own) or [None] * len(own)
    for found, (name, photo, _vector), star, guess in zip(placed, own, names, said):
        verdict = guess and (_("**{model}** calls it **{label}** ({probability:.0%}), not sure.")
                             if models.unsure(guess.probability, len(dataset.class_names)) else
                             _("**{model}** calls it **{label}** ({probability:.0%}).")).format(
                model=widgets.plain(run.label), label=widgets.plain(guess.label), probability=guess.probability)
        landed_ui(found, photo, name, star, usual, dataset.name, verdict)
    return [name for name, _photo, _vector in own]


def curve_ui(dataset: datasets.Dataset, feats, skipped, key: tuple, extractor) -> None:
    """Accuracy against photos per class, several draws each, on the same validation photos."""
    settings = TrainConfig(validation_split=st.session_state.get("kept_validation_split", 0.2),
                           seed=st.session_state.get("kept_seed", 0))
    split = datasets.split(dataset, settings.validation_split, settings.seed)
    train_idx = [i for i in split.train if i not in skipped]
    val_idx = [i for i in split.validation if i not in skipped]
    curve_key = (*key, settings.validation_split, settings.seed)
    points = st.session_state.get("inside_curve")
    st.markdown(_("A new last layer trained on 1, 2, 5, 10, 20, 50 photos per class, {draws} "
                  "random draws each, all judged on the same {count}. "
                  "It takes a few seconds: the features are computed already.").format(
                          draws=learning_curve.DRAWS, count=widgets.count(len(val_idx), 'validation photo')))
    if points is None or points[0] != curve_key:
        slot = st.empty()
        if not slot.button(_("Draw the learning curve"), icon=":material/show_chart:", key="learning_curve"):
            return
        slot.empty()
        bar = st.progress(0.0, _("Training…"))
        found = learning_curve.learning_curve(
            feats, dataset.labels, train_idx, val_idx, seed=settings.seed,
            progress=lambda done, total: bar.progress(done / total, _("Training {done} of {total} last layers…").format(
                    done=done, total=total)))
        bar.empty()
        points = st.session_state["inside_curve"] = (curve_key, found)
    found = points[1]
    st.altair_chart(charts.learning_curve([p.as_dict() for p in found], _("{dataset} · {model}'s features").format(
        dataset=dataset.name, model=models.short_name(extractor.handle))))
    best, first = found[-1], found[0]
    st.caption(_("With {count} per class the new layer is right on "
                 "{accuracy:.0%} of the validation photos (from {low:.0%} to {high:.0%} depending on "
                 "which photos were drawn); with all of them ({per_class} per class), {best:.0%}. The "
                 "bars show how much the choice of photos matters. Chance would be "
                 "{chance:.0%}.").format(
                     count=widgets.count(first.per_class, 'photo'), accuracy=first.accuracy, low=first.low,
                     high=first.high, per_class=best.per_class, best=best.accuracy,
                     chance=1 / len(dataset.class_names)))
    with st.expander(_("The code: accuracy against photos per class")):
        st.code(notebook.learning_curve_code(dataset.root, extractor.handle, settings.validation_split, settings.seed,
                                             extractor.input_size, learning_curve.SIZES, learning_curve.DRAWS),
                language="python")


dataset, handle, extractor = model_picker.dataset_and_extractor_ui("inside")
feats, skipped = features_ui(dataset, extractor)
memo_key = (handle, dataset.fingerprint, len(skipped))

st.subheader(_("The feature map"))
st.markdown(_("What **{handle}** makes of your photos before any training: "
              "photos with similar features land close together.").format(
                      handle=widgets.plain(models.short_name(handle))))
placed = map_ui(dataset, feats, skipped, memo_key, extractor)
with st.expander(_("The code: features of every photo, laid out in two dimensions")):
    st.code(notebook.feature_map_code(dataset.root, handle, st.session_state.get("kept_inside_map_method", "pca"),
                                      extractor.input_size, placed), language="python")

st.subheader(_("How many photos do you need?"))
curve_ui(dataset, feats, skipped, memo_key, extractor)

st.subheader(_("More ways to look inside"))
st.markdown(_("- **Where is it looking?** On the classifier page, a heatmap over each photo shows where ImageNet's "
              "model and yours found the evidence for their answers; the grid and the mistakes can show it too.\n"
              "- **Would a network trained from nothing do as well?** After a run on the Train page, one click trains "
              "the same network from random weights and draws both runs' curves together."))
left, right = st.columns(2)
left.page_link("pages/classifier.py", label=_("Classify photos"), icon=":material/image_search:")
right.page_link("pages/train.py", label=_("Train"), icon=":material/model_training:")
