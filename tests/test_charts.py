"""Chart builders return Vega-Lite specs with the data and encodings the pages rely on."""

from hubdemo import charts
from hubdemo.models import Prediction


def test_top_k_bars_lists_classes_most_probable_first_with_their_percentages():
    spec = charts.top_k_bars([Prediction(1, "suit", 0.2), Prediction(2, "military uniform", 0.7)]).to_dict()
    bars, numbers = spec["layer"]
    assert bars["mark"]["type"] == "bar" and numbers["mark"]["type"] == "text"
    assert numbers["encoding"]["text"] == {"field": "probability", "format": ".0%", "type": "quantitative"}
    assert bars["encoding"]["y"]["sort"] == ["military uniform", "suit"]
    assert bars["encoding"]["y"]["axis"]["labelLimit"] == 140, "long names are cut, the numbers stay"
    assert bars["encoding"]["x"]["axis"]["values"][-1] == 1
    (rows,) = spec["datasets"].values()
    assert rows == [{"label": "suit", "probability": 0.2}, {"label": "military uniform", "probability": 0.7}]


def test_class_counts_bars_follow_class_order_with_whole_number_ticks_and_their_numbers():
    spec = charts.class_counts({"roses": 4, "daisy": 3}).to_dict()
    bars, numbers = spec["layer"]
    assert bars["mark"]["type"] == "bar" and numbers["mark"]["type"] == "text"
    assert numbers["encoding"]["text"]["field"] == "images"
    assert bars["encoding"]["y"]["sort"] == ["roses", "daisy"]
    assert bars["encoding"]["x"]["axis"]["tickMinStep"] == 1 and bars["encoding"]["x"]["axis"]["format"] == "d"
    assert "domain" not in bars["encoding"]["x"]["scale"], "the axis follows the counts"
    (rows,) = spec["datasets"].values()
    assert rows == [{"class": "roses", "images": 4}, {"class": "daisy", "images": 3}]


def test_class_counts_with_no_photo_yet_draw_an_axis_not_a_point():
    bars, _ = charts.class_counts({"pen": 0, "cup": 0}).to_dict()["layer"]
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 10]


def test_runs_overlay_draws_one_line_per_run_by_epoch_in_the_colours_of_the_pages_key():
    curves = {"flowers · run 1 (learning rate 0.02)": [{"epoch": 1, "val_accuracy": 0.8, "loss": 0.9},
                                                        {"epoch": 2, "val_accuracy": 0.85, "loss": 0.5}],
              "flowers · run 2 (learning rate 0.0002)": [{"epoch": 1, "val_accuracy": 0.3, "loss": 1.5}]}
    colours = charts.key_colours(curves)
    spec = charts.runs_overlay(curves, "val_accuracy", colours).to_dict()
    (rows,) = spec["datasets"].values()
    assert [(r["run"][:15], r["epoch"], r["value"]) for r in rows] == [
        ("flowers · run 1", 1, 0.8), ("flowers · run 1", 2, 0.85), ("flowers · run 2", 1, 0.3)]
    assert spec["encoding"]["color"]["scale"] == {"domain": list(curves), "range": list(colours.values())}
    assert spec["encoding"]["color"]["legend"] is None, "the page prints the key: a legend took the plot's room"
    twelve = {f"run {i}": [{"epoch": 1, "val_accuracy": 0.5}] for i in range(12)}
    assert charts.runs_overlay(twelve, "val_accuracy", charts.key_colours(twelve)).to_dict()["height"] == spec[
        "height"], "the same plot for two runs or twelve"
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["encoding"]["x"]["scale"] == {"nice": False}, "epochs from 1: twenty were drawn from an epoch 0"
    assert charts.runs_overlay(curves, "loss", colours).to_dict()["encoding"]["y"]["title"] == "Training loss"


def test_per_class_bars_say_their_percentage_in_class_order():
    spec = charts.per_class_accuracy({"roses": 0.7, "daisy": 1.0}).to_dict()
    bars, numbers = spec["layer"]
    assert bars["mark"]["type"] == "bar" and numbers["encoding"]["text"] == {
        "field": "accuracy", "format": ".0%", "type": "quantitative"}
    assert bars["encoding"]["y"]["sort"] == ["roses", "daisy"]
    assert bars["encoding"]["x"]["axis"]["values"][-1] == 1, "the axis stops at 100%; the room past it is for 100%'s number"
    (rows,) = spec["datasets"].values()
    assert rows == [{"class": "roses", "accuracy": 0.7}, {"class": "daisy", "accuracy": 1.0}]


def test_the_feature_map_colours_by_class_and_rings_only_the_mistakes():
    rows = [{"file": "a.jpg", "label": "daisy", "x": 0.0, "y": 1.0, "mistake": False},
            {"file": "b.jpg", "label": "roses", "x": 2.0, "y": 0.5, "mistake": True}]
    colours = charts.key_colours(["daisy", "roses"])
    spec = charts.feature_map(rows, "t-SNE", colours).to_dict()
    points, rings = spec["layer"]
    assert points["encoding"]["color"]["field"] == "label" and spec["params"][0]["name"] == charts.MAP_SELECTION
    assert rings["mark"]["filled"] is False and rings["transform"] == [{"filter": "datum.mistake"}]
    assert rings["mark"]["color"] == "#212121", "black, as the caption says: the class palette has a red"
    assert points["encoding"]["x"]["title"] == "t-SNE 1"
    scale = points["encoding"]["color"]["scale"]
    assert scale == {"domain": ["daisy", "roses"], "range": ["#4c78a8", "#f58518"]}, "the colours the page's key shows"
    assert points["encoding"]["color"]["legend"] is None, "a legend in the chart ran off a phone's screen"


def test_key_colours_are_distinct_for_up_to_twenty_classes_and_none_is_the_rings_black():
    for n in (2, 5, 10, 12, 20):
        colours = charts.key_colours([f"c{i}" for i in range(n)])
        assert list(colours) == [f"c{i}" for i in range(n)], "in the dataset's order"
        assert len(set(colours.values())) == n, f"{n} classes, {n} colours"
        assert "#212121" not in colours.values()
    assert charts.key_colours(["a", "b"]) == {"a": charts.TEN_COLOURS[0], "b": charts.TEN_COLOURS[1]}


def test_the_learning_curve_draws_the_mean_and_the_spread_on_a_log_scale():
    points = [{"per_class": 1, "accuracy": 0.4, "low": 0.3, "high": 0.5, "draws": 5, "all": False},
              {"per_class": 96, "accuracy": 0.85, "low": 0.85, "high": 0.85, "draws": 1, "all": True}]
    spec = charts.learning_curve(points, "flowers · EfficientNet-Lite0's features").to_dict()
    assert spec["title"] == "flowers · EfficientNet-Lite0's features", "it says what it was drawn for"
    spread, line = spec["layer"]
    assert spread["mark"]["type"] == "rule" and spread["encoding"]["y2"]["field"] == "high"
    assert line["encoding"]["x"]["scale"]["type"] == "log" and line["encoding"]["x"]["axis"]["values"] == [1, 96]


def test_the_confusion_matrix_takes_the_width_it_is_given_and_prints_every_count():
    spec = charts.confusion_heatmap([[3, 1], [0, 2]], ["cat", "dog"]).to_dict()
    cells, numbers = spec["layer"]
    assert "width" not in spec, "as wide as its column (ten fixed-width cells ran off a phone)"
    assert cells["encoding"]["color"]["legend"] is None and numbers["encoding"]["text"]["field"] == "images"
    (rows,) = spec["datasets"].values()
    assert [(r["true"], r["predicted"], r["images"]) for r in rows] == [
        ("cat", "cat", 3), ("cat", "dog", 1), ("dog", "cat", 0), ("dog", "dog", 2)]


def test_a_confusion_matrix_of_many_classes_prints_only_the_counts_that_are_not_zero():
    names = [f"c{i:02d}" for i in range(30)]
    matrix = [[2 if i == j else 0 for j in range(30)] for i in range(30)]
    matrix[4][7] = 1
    spec = charts.confusion_heatmap(matrix, names).to_dict()
    cells, numbers = spec["layer"]
    assert numbers["transform"] == [{"filter": "(datum.images > 0)"}], "30 zeros a row hid the mistakes"
    assert "transform" not in cells, "every cell is still drawn and can be clicked"
    assert spec["height"] == {"step": 22}, "30 rows of 34 px ran far below the chart beside it"
    few = charts.confusion_heatmap([[3, 1], [0, 2]], ["cat", "dog"]).to_dict()
    assert "transform" not in few["layer"][1], "a few classes' zeros say: never confused"
