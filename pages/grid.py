"""Dataset grid: a batch of the dataset, each image titled with a model's guess (ImageNet's, or yours: green or red)."""

import numpy as np
import streamlit as st

import cached
import dataset_picker
import model_picker
import widgets
from hubdemo import datasets, evaluation, grid, notebook
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

widgets.use_router()
heading, intro = st.empty(), st.empty()  # First on the page, though they name the model the sidebar picks.
choice = model_picker.classifier_picker_ui("grid")
if choice is not None and choice.mine is not None:
    heading.title(_("Dataset grid: how right is {label}?").format(label=widgets.plain(choice.label)))
    intro.markdown(_("Pick a labelled dataset and look through it one batch at a time. Each photo is titled with "
                     "your model's guess: :green[green ✓] when right, :red[red ✗] when wrong. Click a title to "
                     "see the true class."))
else:
    heading.title(_("Dataset grid: what does ImageNet make of your classes?"))
    intro.markdown(_("Pick a labelled dataset and look through it one batch at a time. Each photo is titled with "
                     "the best guess of **{label}**, as in the tutorial. Click a title to see the top 5.").format(
        label=widgets.plain(choice.label) if choice is not None else "ImageNet"))


def navigation_ui(n_images: int, view: str) -> tuple[int, int | None]:
    """Previous / next / shuffle buttons; returns (batch number, shuffle seed). A new view starts at batch 1."""
    state = st.session_state
    if state.get("grid_view") != view:
        state.grid_view, state.grid_batch, state.grid_seed = view, 0, None
    total = grid.num_batches(n_images)
    bar = st.container(horizontal=True, vertical_alignment="center")  # One line, on a phone too.
    if bar.button(_("Previous"), icon=":material/arrow_back:"):
        state.grid_batch = (state.grid_batch - 1) % total
    if bar.button(_("Next batch"), icon=":material/arrow_forward:", key="next_batch"):
        state.grid_batch = (state.grid_batch + 1) % total
    if bar.button(_("Shuffle"), icon=":material/shuffle:", key="shuffle"):
        state.grid_seed = (state.grid_seed or 0) + 1
        state.grid_batch = 0
    bar.caption((_("Batch {number} of {total} · shuffled") if state.grid_seed
                   else _("Batch {number} of {total} · the classes in turn")).format(
        number=state.grid_batch % total + 1, total=total))
    return state.grid_batch, state.grid_seed


def grid_ui(cells: list[dict], heat_of=None) -> None:
    """A wrapping grid (six a row on a laptop, two on a phone): each photo (or where ``heat_of`` looked in
    it) with its title, which opens the top guesses."""
    heats = None
    if heat_of is not None:
        with st.spinner(_("Working out where the model looks…")):
            heats = cached.file_heatmaps(heat_of, [c["path"] for c in cells])
    with st.container(horizontal=True, wrap=True):
        for index, cell in enumerate(cells):
            with st.container(width=widgets.GALLERY_WIDTH):
                if cell.get("error"):
                    st.error(cell["error"])
                    continue
                thumb = heats[index] if heats is not None else cached.thumbnail(cell["path"])
                if thumb is not None:
                    st.image(thumb, width="stretch")
                with st.popover(cell["title"], width="stretch"):
                    st.caption(_("True class: {true}").format(true=widgets.plain(cell['true'])))
                    for label, probability in cell["bars"]:
                        st.progress(probability, f"{widgets.plain(label)}: {probability:.0%}")


def judged_pool(dataset: datasets.Dataset, choice: model_picker.Choice) -> tuple[np.ndarray, str]:
    """Which photos your model is judged on, and a sentence saying why those."""
    if choice.dataset_key == dataset.fingerprint and choice.validation_split:
        held_back = datasets.split(dataset, choice.validation_split, choice.seed).validation
        return held_back, _("Showing the {photos} of this dataset, which {model} never trained on.").format(
            photos=widgets.count(len(held_back), "validation photo"), model=widgets.plain(choice.label))
    return np.arange(len(dataset)), _(
        "Showing every photo of this dataset. If the model trained on some of them, it will look better "
        "here than it is: judge it on photos it has not seen.")


def evaluation_for(dataset: datasets.Dataset, choice: model_picker.Choice, pool: np.ndarray):
    """Your model's verdict on every photo of the pool, computed once per model, photos and their contents."""
    stamps = hash(tuple(datasets.file_stamp(dataset.files[i]) for i in pool))  # A photo edited in place.
    key = (choice.mine.uid, dataset.fingerprint, hash(pool.tobytes()), stamps)
    kept = st.session_state.get("grid_evaluation")
    if kept is None or kept[0] != key:
        with st.spinner(_("{label} is looking at the photos…").format(label=choice.label)):
            kept = st.session_state["grid_evaluation"] = (key, *evaluation.evaluate_dataset(choice.mine, dataset, pool))
    return kept[1], kept[2]


def mine_ui(dataset: datasets.Dataset, choice: model_picker.Choice) -> None:
    """Your model's guesses, green when right and red when wrong; its evaluation on these photos."""
    pool, why = judged_pool(dataset, choice)
    st.caption(why)
    try:
        ev, indices = evaluation_for(dataset, choice, pool)
    except HubDemoError as err:
        widgets.show_error(err)
        return
    verdicts = dict(zip(indices.tolist(), ev.verdicts))
    st.metric(_("Accuracy of {label} on these photos").format(label=choice.label), f"{ev.accuracy:.1%}")
    with st.expander(_("Per class, the confusion matrix and the mistakes")):
        widgets.evaluation_ui(ev, key="grid", what=f"{choice.label} on {widgets.count(len(ev.files), 'photo')}",
                              model=choice.mine)
    mistakes_only = st.toggle(_("Mistakes only"), key="grid_mistakes_only")
    candidates = np.array([i for i, v in verdicts.items() if not (mistakes_only and v.correct)], dtype=int)
    if mistakes_only:
        st.metric(_("Mistakes"), _("{n_candidates} of {count}").format(
                n_candidates=len(candidates), count=widgets.count(len(verdicts), 'photo')))
    if not len(candidates):
        st.success(_("No mistakes on these photos."))
        return
    number, seed = navigation_ui(len(candidates), f"mine:{choice.mine.uid}:{mistakes_only}")
    labels = np.asarray(dataset.labels)[candidates]
    batch = candidates[grid.batch(grid.order(labels, seed), number)]
    shown = [verdicts[i] for i in batch]
    if not mistakes_only:
        right = sum(v.correct for v in shown)
        st.metric(_("Right in this batch"), _("{right} of {n_shown} ({share:.0%})").format(
                right=right, n_shown=len(shown), share=right / len(shown)))
    heat_of = widgets.heat_toggle_ui(choice.mine, "grid_heat", _("Show where the model looks"))
    grid_ui([{"path": str(v.file), "true": v.true, "bars": [(v.predicted, v.probability)],
              "title": (f":green[✓ {widgets.plain(v.predicted)}]" if v.correct
                        else f":red[✗ {widgets.plain(v.predicted)}]")} for v in shown],
            heat_of)


def imagenet_ui(dataset: datasets.Dataset, handle: str) -> None:
    """ImageNet's top guess as each photo's title, the top 5 behind it."""
    number, seed = navigation_ui(len(dataset), f"imagenet:{handle}")
    indices = grid.batch(grid.order(dataset.labels, seed), number)
    files = tuple(str(dataset.files[i]) for i in indices)
    with st.spinner(_("The model is looking at this batch…")):
        results = cached.imagenet_batch(handle, files)
    heat_of = widgets.heat_toggle_ui(cached.classifier(handle), "grid_heat", _("Show where the model looks"))
    grid_ui([{"path": path, "error": r.error, "true": dataset.class_names[dataset.labels[i]],
              "title": widgets.plain(r.predictions[0].label) if r.predictions else "",
              "bars": [(p.label, p.probability) for p in r.predictions]}
             for path, i, r in zip(files, indices, results)], heat_of)


dataset = dataset_picker.dataset_ui()
if dataset is None or choice is None:
    st.stop()
dataset_picker.summary_ui(dataset)
model_picker.suggest_yours_ui("grid", choice)
if choice.mine is not None:
    mine_ui(dataset, choice)
elif widgets.classifier_ui(choice.imagenet_handle) is not None:
    imagenet_ui(dataset, choice.imagenet_handle)

if choice.mine is None:
    with st.expander(_("The code: a batch of this dataset with the model's guesses, as in the tutorial")):
        st.code(notebook.grid_code(dataset.root, choice.imagenet_handle, cached.classifier(choice.imagenet_handle).input_size),
                language="python")
else:
    with st.expander(_("The code: {label}'s guesses on these photos, right or wrong").format(label=widgets.plain(choice.label))):
        judged_split = choice.validation_split if choice.dataset_key == dataset.fingerprint else None
        st.code(notebook.judge_code(dataset.root, choice.folder, choice.mine.input_size, judged_split, choice.seed),
                language="python")

with st.expander(_("Why are ImageNet's guesses reasonable but not perfect?")):
    st.markdown(
        _("The model knows only ImageNet's 1,000 classes. Some of your classes are among them "
          "(ImageNet has *daisy*), most are not (it has no *tulip*, no *dandelion*, no digits), so it "
          "names the closest thing it knows: a sunflower becomes a *daisy*, a handwritten 7 a *nail*. "
          "The guesses are still useful: photos of one class get similar guesses, which means the "
          "model's internal features already tell your classes apart. Training a new last layer on "
          "those features (the **Train** page) is transfer learning."))
