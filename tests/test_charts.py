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


def test_class_counts_bars_follow_class_order_with_whole_number_ticks():
    spec = charts.class_counts({"roses": 4, "daisy": 3}).to_dict()
    assert spec["encoding"]["y"]["sort"] == ["roses", "daisy"]
    assert spec["encoding"]["x"]["axis"]["tickMinStep"] == 1 and spec["encoding"]["x"]["axis"]["format"] == "d"
    (rows,) = spec["datasets"].values()
    assert rows == [{"class": "roses", "images": 4}, {"class": "daisy", "images": 3}]
