"""Altair chart builders: plain data in, ``alt.Chart`` out (no Streamlit, no I/O)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def top_k_bars(predictions) -> alt.Chart:
    """Horizontal bars of class probability, most probable on top.

    Args:
        predictions: ``Prediction`` objects (or dicts with ``label`` and ``probability``).
    """
    rows = [p if isinstance(p, dict) else {"label": p.label, "probability": p.probability}
            for p in predictions]
    data = pd.DataFrame(rows, columns=["label", "probability"])
    order = data.sort_values("probability", ascending=False)["label"].tolist()
    return (
        alt.Chart(data)
        .mark_bar(color="#FF6F00")
        .encode(
            x=alt.X("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1]),
                    axis=alt.Axis(format="%")),
            y=alt.Y("label:N", title=None, sort=order,
                    axis=alt.Axis(labelOverlap=False, labelLimit=160)),
            tooltip=["label:N", alt.Tooltip("probability:Q", format=".1%")],
        )
        .properties(height=alt.Step(30))
    )


def class_counts(counts: dict[str, int]) -> alt.Chart:
    """Bars of images per class, in the dataset's class order."""
    data = pd.DataFrame({"class": list(counts), "images": list(counts.values())})
    return (
        alt.Chart(data)
        .mark_bar(color="#FF6F00")
        .encode(
            x=alt.X("images:Q", title="Images"),
            y=alt.Y("class:N", title=None, sort=list(counts), axis=alt.Axis(labelOverlap=False)),
            tooltip=["class:N", "images:Q"],
        )
        .properties(height=alt.Step(22))
    )
