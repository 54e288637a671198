"""Dataset grid: a batch of the dataset, each image titled with a model's guess."""

import numpy as np
import streamlit as st

import cached
import widgets
from hubdemo import datasets, grid

widgets.use_router()
st.title("Dataset grid: what does ImageNet make of your classes?")
st.markdown(
    "Pick a labelled dataset and look through it one batch at a time. Each photo is titled with the "
    "ImageNet model's best guess, as in the tutorial. Click a title to see the top 5.")


def navigation_ui(n_images: int) -> tuple[int, int | None]:
    """Previous / next / shuffle buttons; returns (batch number, shuffle seed)."""
    state = st.session_state
    state.setdefault("grid_batch", 0)
    state.setdefault("grid_seed", None)
    total = grid.num_batches(n_images)
    back, forward, shuffle, where = st.columns([1, 1, 1, 3], vertical_alignment="center")
    if back.button("Previous", icon=":material/arrow_back:", width="stretch"):
        state.grid_batch = (state.grid_batch - 1) % total
    if forward.button("Next batch", icon=":material/arrow_forward:", width="stretch", key="next_batch"):
        state.grid_batch = (state.grid_batch + 1) % total
    if shuffle.button("Shuffle", icon=":material/shuffle:", width="stretch", key="shuffle"):
        state.grid_seed = (state.grid_seed or 0) + 1
        state.grid_batch = 0
    where.caption(f"Batch {state.grid_batch % total + 1} of {total} · "
                  + ("shuffled" if state.grid_seed else "in folder order"))
    return state.grid_batch, state.grid_seed


def grid_ui(cells: list[dict]) -> None:
    """Rows of six: each photo with its title; the title opens the true class and the top guesses."""
    for start in range(0, len(cells), grid.COLUMNS):
        for column, cell in zip(st.columns(grid.COLUMNS), cells[start:start + grid.COLUMNS]):
            if cell.get("error"):
                column.error(cell["error"])
                continue
            thumb = cached.thumbnail(cell["path"])
            if thumb is not None:
                column.image(thumb, width="stretch")
            with column.popover(cell["title"], width="stretch"):
                st.caption(f"True class: {cell['true']}")
                for label, probability in cell["bars"]:
                    st.progress(probability, f"{label}: {probability:.0%}")


def finetuned_candidates_ui(dataset, trained):
    """The images the trained model is judged on (its validation photos), optionally only its mistakes."""
    same_data = dataset.root == trained.dataset_root
    pool = (datasets.split(dataset, trained.config.validation_split, trained.config.seed).validation
            if same_data else np.arange(len(dataset)))
    st.caption("Showing the validation photos, which the model never trained on." if same_data
               else "Showing every photo of this dataset (the model never trained on it).")
    stamps = hash(tuple(datasets.file_stamp(dataset.files[i]) for i in pool))  # A photo edited in place.
    key = (id(trained), dataset.root, len(dataset), stamps)
    cached_verdicts = st.session_state.get("grid_verdicts")
    if cached_verdicts is None or cached_verdicts[0] != key:
        with st.spinner("Your model is looking at the photos…"):
            extractor = cached.extractor(trained.feature_handle) if trained.head is not None else None
            probs, skipped = trained.probabilities([dataset.files[i] for i in pool], extractor)
        keep = [k for k in range(len(pool)) if k not in skipped]
        found = grid.verdicts(probs[keep], [dataset.labels[pool[k]] for k in keep], trained.class_names)
        cached_verdicts = st.session_state["grid_verdicts"] = (key, dict(zip(pool[keep].tolist(), found)))
    verdict_by_index = cached_verdicts[1]
    st.metric("Accuracy on these photos", f"{grid.accuracy(list(verdict_by_index.values())):.1%}")
    if st.toggle("Mistakes only", key="grid_mistakes_only"):
        return np.array([i for i, v in verdict_by_index.items() if not v.correct], dtype=int)
    return np.array(list(verdict_by_index), dtype=int)


dataset = widgets.dataset_ui()
if dataset is None:
    st.stop()
widgets.summary_ui(dataset)

handle = widgets.model_picker_ui("classification", key="grid")
if not handle or cached.classifier_ui(handle) is None:
    st.stop()

trained = st.session_state.get("trained")
mine = trained is not None and st.toggle(
    f"Show my trained model's guesses (trained on {trained.dataset_name})", key="grid_mine",
    help="Titles turn green when the model is right and red when it is wrong.")
if mine and tuple(trained.class_names) != dataset.class_names:
    st.warning(f"Your model knows the classes {', '.join(trained.class_names)}; this dataset has "
               f"{', '.join(dataset.class_names)}. Pick the dataset it was trained on to compare.")
    mine = False

if mine:
    candidates = finetuned_candidates_ui(dataset, trained)
    if not len(candidates):
        st.success("No mistakes on these photos.")
        st.stop()
    number, seed = navigation_ui(len(candidates))
    indices = candidates[grid.batch(grid.order(len(candidates), seed), number)]
    verdict_by_index = st.session_state["grid_verdicts"][1]
    batch_verdicts = [verdict_by_index[i] for i in indices]
    st.metric("Right in this batch", f"{sum(v.correct for v in batch_verdicts)} of {len(batch_verdicts)} "
              f"({grid.accuracy(batch_verdicts):.0%})")
    grid_ui([{"path": str(dataset.files[i]), "true": v.true, "bars": [(v.predicted, v.probability)],
              "title": f":green[✓ {v.predicted}]" if v.correct else f":red[✗ {v.predicted}]"}
             for i, v in zip(indices, batch_verdicts)])
else:
    number, seed = navigation_ui(len(dataset))
    indices = grid.batch(grid.order(len(dataset), seed), number)
    files = tuple(str(dataset.files[i]) for i in indices)
    with st.spinner("The model is looking at this batch…"):
        results = cached.imagenet_batch(handle, files)
    grid_ui([{"path": path, "error": r.error, "true": dataset.class_names[dataset.labels[i]],
              "title": r.predictions[0].label if r.predictions else "",
              "bars": [(p.label, p.probability) for p in r.predictions]}
             for path, i, r in zip(files, indices, results)])

with st.expander("Why are ImageNet's guesses reasonable but not perfect?"):
    st.markdown(
        "The model knows only ImageNet's 1,000 classes. Some of your classes are among them "
        "(ImageNet has *daisy*), most are not (it has no *tulip*, no *dandelion*, no digits), so it "
        "names the closest thing it knows: a sunflower becomes a *daisy*, a handwritten 7 a *nail*. "
        "The guesses are still useful: photos of one class get similar guesses, which means the "
        "model's internal features already tell your classes apart. Training a new last layer on "
        "those features (the **Train** page) is transfer learning.")
