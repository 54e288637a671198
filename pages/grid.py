"""Dataset grid: a batch of the dataset, each image titled with a model's guess."""

import streamlit as st

import cached
import widgets
from hubdemo import grid

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


def cell_ui(column, path: str, title: str, top5, true_class: str | None) -> None:
    """One grid cell: the photo, its title, and the top 5 behind the title."""
    thumb = cached.thumbnail(path)
    if thumb is not None:
        column.image(thumb, width="stretch")
    with column.popover(title, width="stretch"):
        if true_class is not None:
            st.caption(f"True class: {true_class}")
        for p in top5:
            st.progress(p.probability, f"{p.label}: {p.probability:.0%}")


dataset = widgets.dataset_ui()
if dataset is None:
    st.stop()
widgets.summary_ui(dataset)

handle = widgets.model_picker_ui("classification", key="grid")
if not handle or cached.classifier_ui(handle) is None:
    st.stop()

number, seed = navigation_ui(len(dataset))
indices = grid.batch(grid.order(len(dataset), seed), number)
files = tuple(str(dataset.files[i]) for i in indices)
with st.spinner("The model is looking at this batch…"):
    results = cached.imagenet_batch(handle, files)

for row in range(grid.ROWS):
    columns = st.columns(grid.COLUMNS)
    for col, cell in zip(columns, range(row * grid.COLUMNS, (row + 1) * grid.COLUMNS)):
        if cell >= len(results):
            break
        result, label = results[cell], dataset.class_names[dataset.labels[indices[cell]]]
        if result.error:
            col.error(result.error)
            continue
        cell_ui(col, files[cell], result.predictions[0].label, result.predictions, label)

with st.expander("Why are ImageNet's guesses reasonable but not perfect?"):
    st.markdown(
        "The model knows only ImageNet's 1,000 classes. Some of your classes are among them "
        "(ImageNet has *daisy*), most are not (it has no *tulip*, no *dandelion*, no digits), so it "
        "names the closest thing it knows: a sunflower becomes a *daisy*, a handwritten 7 a *nail*. "
        "The guesses are still useful: photos of one class get similar guesses, which means the "
        "model's internal features already tell your classes apart. Training a new last layer on "
        "those features (the **Train** page) is transfer learning.")
