"""Altair chart builders: plain data in, ``alt.Chart`` out (no Streamlit, no I/O)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from hubdemo.i18n import N_, _

BAR_COLOUR = "#FF6F00"


def _numbered_bars(base: alt.Chart, field: str, number_format: str, row_height: int) -> alt.LayerChart:
    """``base``'s horizontal bars, each with its number written at its end (read from across a room)."""
    numbers = base.mark_text(align="left", dx=3, fontSize=12).encode(text=alt.Text(f"{field}:Q", format=number_format))
    return (base.mark_bar(color=BAR_COLOUR) + numbers).properties(height=alt.Step(row_height))


def top_k_bars(predictions) -> alt.Chart:
    """Horizontal bars of class probability, most probable on top, each with its percentage written at its end.

    Long class names are cut at the axis with "…" (the tooltip has them whole),
    so the percentages always stay in view.

    Args:
        predictions: ``Prediction`` objects (or dicts with ``label`` and ``probability``).
    """
    rows = [p if isinstance(p, dict) else {"label": p.label, "probability": p.probability}
            for p in predictions]
    data = pd.DataFrame(rows, columns=["label", "probability"])
    order = data.sort_values("probability", ascending=False)["label"].tolist()
    base = alt.Chart(data).encode(
        # Room past 100% for the last bar's number; the axis itself stops at 100%.
        x=alt.X("probability:Q", title=_("Probability"), scale=alt.Scale(domain=[0, 1.18]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelOverlap=False, labelLimit=140)),
        tooltip=[alt.Tooltip("label:N", title=_("Class")),
                 alt.Tooltip("probability:Q", title=_("Probability"), format=".1%")],
    )
    return _numbered_bars(base, "probability", ".0%", 30)


def class_counts(counts: dict[str, int]) -> alt.Chart:
    """Bars of images per class, in the dataset's class order, each with its number (a class watching its counts
    grow reads them from across the room); with no photo yet, an empty axis from 0 to 10 rather than a collapsed one."""
    data = pd.DataFrame({"class": list(counts), "images": list(counts.values())})
    scale = alt.Scale() if any(counts.values()) else alt.Scale(domain=[0, 10])
    base = alt.Chart(data).encode(
        x=alt.X("images:Q", title=_("Images"), scale=scale, axis=alt.Axis(tickMinStep=1, format="d")),  # Whole photos.
        y=alt.Y("class:N", title=None, sort=list(counts), axis=alt.Axis(labelOverlap=False)),
        tooltip=[alt.Tooltip("class:N", title=_("Class")), alt.Tooltip("images:Q", title=_("Images"))],
    )
    return _numbered_bars(base, "images", ",d", 22)


CURVE_HEIGHT = 340  # pixels, of which the plot gets about 180


def training_curve(batches: list[dict], epochs: list[dict], metric: str) -> alt.Chart:
    """``metric`` ("loss" or "accuracy") per training step, with validation ``metric`` at each epoch's end.

    Args:
        batches: records with ``step`` and ``metric`` (one per training batch).
        epochs: records with ``step`` (the last batch of the epoch) and ``val_<metric>``.
    """
    title = {"loss": _("Loss"), "accuracy": _("Accuracy")}[metric]
    training, validation = _("training (each batch)"), _("validation (each epoch)")
    rows = [{"step": b["step"], "value": b[metric], "series": training} for b in batches]
    rows += [{"step": e["step"], "value": e[f"val_{metric}"], "series": validation}
             for e in epochs if f"val_{metric}" in e]
    data = pd.DataFrame(rows, columns=["step", "value", "series"])
    # Below, one entry a line: side by side, the second is cut off on a phone. Streamlit fits title, axes
    # and legend into the chart's height, hence the height that leaves the curves room.
    legend = alt.Legend(orient="bottom", direction="vertical")
    colour = alt.Color("series:N", title=None, legend=legend,
                       scale=alt.Scale(domain=[training, validation], range=["#FF6F00", "#1565C0"]))
    y = alt.Y("value:Q", title=title, scale=alt.Scale(domain=[0, 1]) if metric == "accuracy" else alt.Undefined)
    base = alt.Chart(data).encode(x=alt.X("step:Q", title=_("Training step")), y=y, color=colour,
                                  tooltip=[alt.Tooltip("series:N", title=_("Curve")),
                                           alt.Tooltip("step:Q", title=_("Training step")),
                                           alt.Tooltip("value:Q", title=title, format=".3f")])
    lines = base.mark_line(strokeWidth=1.5).transform_filter(alt.datum.series == training)
    points = base.mark_line(point=True, strokeWidth=2).transform_filter(alt.datum.series == validation)
    return (lines + points).properties(height=CURVE_HEIGHT, title=title)


RUN_METRICS = {"val_accuracy": N_("Validation accuracy"), "val_loss": N_("Validation loss"),
               "accuracy": N_("Training accuracy"), "loss": N_("Training loss")}


def runs_overlay(curves: dict[str, list[dict]], metric: str, colours: dict[str, str]) -> alt.Chart:
    """One line per run of ``metric`` against the epoch, to compare runs (say, three learning rates).

    No legend: the page prints ``colours`` as a key below the chart (:func:`key_colours`). A legend inside
    the chart takes its room from the plot: with twelve runs listed the plot was a strip 50 px high, and
    a legend cannot wrap to a phone's width.

    Args:
        curves: run label → that run's epoch records (``epoch`` and the metric).
        metric: a key of :data:`RUN_METRICS`.
        colours: :func:`key_colours` of the run labels.
    """
    rows = [{"run": label, "epoch": e["epoch"], "value": e[metric]}
            for label, epochs in curves.items() for e in epochs if metric in e]
    data = pd.DataFrame(rows, columns=["run", "epoch", "value"])
    title = _(RUN_METRICS[metric])
    y = alt.Y("value:Q", title=title,
              scale=alt.Scale(domain=[0, 1]) if metric.endswith("accuracy") else alt.Undefined)
    return (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2)
        .encode(x=alt.X("epoch:Q", title=_("Epoch"), axis=alt.Axis(tickMinStep=1, format="d"),
                        scale=alt.Scale(nice=False)), y=y,  # From epoch 1: no rounding down to an epoch 0.
                color=alt.Color("run:N", title=None, legend=None,
                                scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
                tooltip=[alt.Tooltip("run:N", title=_("Run")), alt.Tooltip("epoch:Q", title=_("Epoch")),
                         alt.Tooltip("value:Q", title=title, format=".3f")])
        .properties(height=RUNS_HEIGHT, title=_("{metric}, run by run").format(metric=title))
    )


RUNS_HEIGHT = 320  # The same plot for one run or twelve: the key is printed below it.


def per_class_accuracy(per_class: dict[str, float]) -> alt.Chart:
    """Bars of the share of each class's validation images predicted right, each with its percentage."""
    data = pd.DataFrame({"class": list(per_class), "accuracy": list(per_class.values())})
    base = alt.Chart(data).encode(
        # Room past 100% for a perfect class's number; the axis itself stops at 100%.
        x=alt.X("accuracy:Q", title=_("Right"), scale=alt.Scale(domain=[0, 1.15]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        y=alt.Y("class:N", title=None, sort=list(per_class), axis=alt.Axis(labelOverlap=False)),
        tooltip=[alt.Tooltip("class:N", title=_("Class")), alt.Tooltip("accuracy:Q", title=_("Right"), format=".0%")],
    )
    return _numbered_bars(base, "accuracy", ".0%", 22)


CONFUSION_SELECTION = "cell"


CONFUSION_ZEROS_UP_TO = 12  # Classes up to which the confusion matrix prints its zeros too.


def confusion_heatmap(matrix, class_names) -> alt.Chart:
    """Counts of true class (rows) against predicted class (columns); a click selects a cell.

    As wide as the page gives it (shown with ``width="stretch"``): ten classes of fixed-width cells ran
    off a phone's screen and out of a laptop's column. Each cell prints its count (with many classes,
    each count but zero), so no colour legend.
    """
    names = list(class_names)
    data = pd.DataFrame([{"true": names[i], "predicted": names[j], "images": int(matrix[i][j])}
                         for i in range(len(names)) for j in range(len(names))])
    select = alt.selection_point(name=CONFUSION_SELECTION, fields=["true", "predicted"], on="click")
    base = alt.Chart(data).encode(
        x=alt.X("predicted:N", title=_("Predicted class"), sort=names, axis=alt.Axis(labelAngle=-40, labelOverlap=False)),
        y=alt.Y("true:N", title=_("True class"), sort=names, axis=alt.Axis(labelOverlap=False)),
    )
    cells = base.mark_rect(stroke="#FFFFFF").encode(
        color=alt.Color("images:Q", title=_("Images"), scale=alt.Scale(scheme="oranges"), legend=None),
        opacity=alt.condition(select, alt.value(1.0), alt.value(0.45)),
        tooltip=[alt.Tooltip("true:N", title=_("True class")), alt.Tooltip("predicted:N", title=_("Predicted class")),
                 alt.Tooltip("images:Q", title=_("Images"))],
    ).add_params(select)
    many = len(names) > CONFUSION_ZEROS_UP_TO
    text = base.mark_text(fontSize=10 if many else 12).encode(
        text="images:Q",
        color=alt.condition(alt.datum.images > max(int(max(map(max, matrix))) / 2, 1),
                            alt.value("white"), alt.value("black")),
    )
    if many:  # Hundreds of zeros hid the few cells that matter, in cells too narrow for them.
        text = text.transform_filter(alt.datum.images > 0)
    step = 48 if len(names) <= 6 else 34 if not many else 22  # Near square for a few classes; many stay on screen.
    return (cells + text).properties(height=alt.Step(step))


MAP_SELECTION = "photo"
# Vega's tableau10 and tableau20: distinct hues, none black (the colour of the map's rings).
TEN_COLOURS = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
               "#bab0ac")
TWENTY_COLOURS = ("#4c78a8", "#9ecae9", "#f58518", "#ffbf79", "#54a24b", "#88d27a", "#b79a20", "#f2cf5b", "#439894",
                  "#83bcb6", "#e45756", "#ff9d98", "#79706e", "#bab0ac", "#d67195", "#fcbfd2", "#b279a2", "#d6a5c9",
                  "#9e765f", "#d8b5a5")


def key_colours(names) -> dict[str, str]:
    """Each name's colour, in order (beyond 20 names, colours repeat): the feature map's classes, the runs
    chart's runs.

    Made here rather than left to Vega so the page can print the key itself: a legend inside the chart
    cannot wrap, ran off a phone's screen at the fifth flower class, and takes its room from the plot.
    """
    names = list(dict.fromkeys(names))
    palette = TEN_COLOURS if len(names) <= len(TEN_COLOURS) else TWENTY_COLOURS
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


# A five-pointed star (Vega's shapes have none): a new photo placed on the map stands out from every dot and ring.
STAR = ("M0,-1L0.2245,-0.309L0.951,-0.309L0.363,0.118L0.588,0.809L0,0.382L-0.588,0.809L-0.363,0.118"
        "L-0.951,-0.309L-0.2245,-0.309Z")


def feature_map(rows: list[dict], method_title: str, colours: dict[str, str],
                placed: list[dict] | None = None) -> alt.Chart:
    """Every photo as a point coloured by class; hovering shows the photo, a click selects it; mistakes ringed
    in black (no class colour is black; the palette has a red). No legend: the page prints ``colours``.

    Args:
        rows: ``file``, ``label``, ``x``, ``y``, and optionally ``image`` (a data URI, shown on hover) and
            ``mistake`` (True for a photo a trained model gets wrong).
        colours: :func:`key_colours` of the dataset's classes.
        placed: new photos placed on the map (``x``, ``y``, ``name``), drawn as black stars named beside them.
    """
    data = pd.DataFrame(rows)
    if "mistake" not in data:
        data["mistake"] = False
    select = alt.selection_point(name=MAP_SELECTION, fields=["file"], on="click")
    tooltip = [alt.Tooltip("label:N", title=_("Class"))] + (["image:N"] if "image" in data else [])
    base = alt.Chart(data).encode(
        x=alt.X("x:Q", title=f"{method_title} 1", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", title=f"{method_title} 2", axis=alt.Axis(labels=False, ticks=False)),
    )
    points = base.mark_circle(size=60).encode(
        color=alt.Color("label:N", title=_("Class"), legend=None,
                        scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
        opacity=alt.condition(select, alt.value(0.9), alt.value(0.35)),
        tooltip=tooltip,
    ).add_params(select)
    rings = base.mark_point(size=220, shape="circle", filled=False, strokeWidth=2, color="#212121").encode(
        tooltip=tooltip).transform_filter(alt.datum.mistake)
    chart = points + rings
    if placed:
        stars = pd.DataFrame(placed)
        # Each name on the side of its star facing the middle of the map, so that none runs off its edge.
        stars["right"] = stars["x"] > (data["x"].min() + data["x"].max()) / 2
        at_stars = alt.Chart(stars).encode(x="x:Q", y="y:Q", tooltip=[alt.Tooltip("name:N", title=_("Photo"))])
        chart += at_stars.mark_point(shape=STAR, size=700, filled=True, color="#212121", stroke="white", strokeWidth=1.5,
                                 opacity=1)
        for right in (False, True):
            side = at_stars.encode(text="name:N").transform_filter(alt.datum.right if right else ~alt.datum.right)
            words = {"align": "right" if right else "left", "dx": -16 if right else 16, "fontSize": 14,
                     "fontWeight": "bold"}
            chart += side.mark_text(**words, color="white", stroke="white", strokeWidth=4, strokeJoin="round")  # A halo:
            chart += side.mark_text(**words, color="#212121")  # the name stays readable over the dots.
    return chart.properties(height=480)


def learning_curve(points: list[dict], what: str) -> alt.Chart:
    """Validation accuracy against training photos per class: the mean of the draws, and their spread as a bar.

    Args:
        points: ``per_class``, ``accuracy``, ``low``, ``high`` (and ``all``: the point with every photo).
        what: the dataset and the features it was drawn for, in the title (a result says what made it).
    """
    data = pd.DataFrame(points)
    x = alt.X("per_class:Q", title=_("Training photos per class"), scale=alt.Scale(type="log"),
              axis=alt.Axis(values=data["per_class"].tolist(), format="d"))
    spread = alt.Chart(data).mark_rule(strokeWidth=3, color="#FFB74D").encode(
        x=x, y=alt.Y("low:Q", title=_("Validation accuracy"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y2="high:Q")
    line = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=70, color="#FF6F00"), color="#FF6F00").encode(
        x=x, y=alt.Y("accuracy:Q"),
        tooltip=[alt.Tooltip("per_class:Q", title=_("Photos per class")),
                 alt.Tooltip("accuracy:Q", title=_("Mean accuracy"), format=".1%"),
                 alt.Tooltip("low:Q", title=_("Worst draw"), format=".1%"),
                 alt.Tooltip("high:Q", title=_("Best draw"), format=".1%")])
    return (spread + line).properties(height=320, title=what)
