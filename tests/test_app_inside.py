"""AppTest of the Look inside page: the feature map, the learning curve, and the code behind them."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

TIMEOUT = 180


def charts(at):
    return at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


@pytest.fixture(scope="module")
def inside(bundled_dir, colours_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.session_state["default_data"] = str(colours_dir)
    at.run()
    at.switch_page("pages/inside.py").run()
    assert not at.exception, at.exception
    return at


def test_the_map_shows_every_photo_by_its_features(inside):
    at = inside
    assert [s.value for s in at.subheader][:2] == ["The feature map", "How many photos do you need?"]
    assert any(c.value.startswith("Each dot is one of 36 photos, placed by its 1,280 features (PCA).")
               for c in at.caption)
    (feature_map,) = [c for c in charts(at) if '"PCA 1"' in c.proto.spec]
    assert 'datum.mistake' in feature_map.proto.spec and '"field": "image"' in feature_map.proto.spec, "rings, photos"
    at.radio(key="inside_map_method").set_value("tsne").run()
    assert any("(t-SNE)" in c.value for c in at.caption) and not at.exception


def test_photos_of_ones_own_land_on_the_map_among_their_nearest_photos(inside):
    from hubdemo import images
    from make_images import colour_photo
    at = inside
    at.file_uploader(key="inside_place").upload("mine.png", colour_photo((40, 200, 60), seed=5), "image/png").run()
    assert not at.exception, at.exception
    (feature_map,) = [c for c in charts(at) if charts_module().STAR in c.proto.spec]
    names = [d.data.data for d in feature_map.proto.datasets]
    assert '"text"' in feature_map.proto.spec and any(b"your photo" in n for n in names), "the star is named"
    assert "#### Where your photo landed · mine.png" in [m.value for m in at.markdown]
    assert any(c.value.startswith("The star “your photo”, among its 5 nearest photos by their features (green × 5).")
               for c in at.caption), [c.value for c in at.caption]
    (row,) = [i for i in at.image if len(i.proto.imgs) == 6]
    assert [i.caption.split(" · ")[0] for i in row.proto.imgs] == ["your photo"] + ["green"] * 5
    assert any("MY_PHOTOS = ['mine.png']" in c.value for c in at.code), "the code places it too"
    assert not [i for i in at.info if i.value.startswith("Nothing in colours")], "a green photo is like the greens"
    # Two more: each its star, named by its file, and its neighbours; a file that is no photo is said, and left out.
    uploader = at.file_uploader(key="inside_place")
    uploader.upload("mine.png", colour_photo((40, 200, 60), seed=5), "image/png")
    uploader.upload("red one.png", colour_photo((220, 40, 40), seed=6), "image/png")
    uploader.upload("notes.png", b"this is text", "image/png")
    uploader.upload("hopper.jpg", images.sample_photo(), "image/jpeg").run()
    assert not at.exception and any("notes.png" in e.value for e in at.error), "an unreadable photo is said"
    headings = [m.value for m in at.markdown if m.value.startswith("#### Where your photo landed")]
    assert headings == ["#### Where your photo landed · mine.png", "#### Where your photo landed · red one.png",
                        "#### Where your photo landed · hopper.jpg"]
    rows = [[i.caption.split(" · ")[0] for i in r.proto.imgs] for r in at.image if len(r.proto.imgs) == 6]
    assert rows[:2] == [["mine.png"] + ["green"] * 5, ["red one.png"] + ["red"] * 5]
    assert any("MY_PHOTOS = ['mine.png', 'red one.png', 'hopper.jpg']" in c.value for c in at.code)
    (unlike,) = [i.value for i in at.info if i.value.startswith("Nothing in colours")]
    assert unlike.startswith("Nothing in colours is much like “hopper.jpg”: its nearest photo is only 0.") and \
        "would still call it one of them" in unlike, "a person among colours: like none of them, yet a colour"
    at.file_uploader(key="inside_place").clear().run()
    assert not [c for c in charts(at) if charts_module().STAR in c.proto.spec], "removed: no star left"
    assert not [m for m in at.markdown if m.value.startswith("#### Where your photo landed")]


def charts_module():
    from hubdemo import charts as module
    return module

def test_the_learning_curve_is_drawn_on_demand(inside):
    at = inside
    assert at.button(key="learning_curve")
    at.button(key="learning_curve").click().run()
    assert any(c.value.startswith("With 1 photo per class the new layer is right on") for c in at.caption)
    assert not [b for b in at.button if b.key == "learning_curve"], "drawn: the button has done its work"
    (curve,) = [c for c in charts(at) if "Training photos per class" in c.proto.spec]
    assert json.loads(curve.proto.spec)["title"] == "colours · EfficientNet-Lite0 feature vector's features", \
        "it says what made it"
    assert not at.exception


def test_the_learning_curves_code_draws_the_same_curve(inside, tmp_path):
    """Run as a student would, without hubdemo: the same draws give the page's accuracies."""
    import re
    from test_notebook import run_script
    at = inside
    if "inside_curve" not in at.session_state:
        at.button(key="learning_curve").click().run()
    points = at.session_state["inside_curve"][1]
    code = next(c.value for c in at.code if "LogisticRegression" in c.value)
    printed = run_script(code, tmp_path)
    found = {int(n): float(a) / 100 for n, a in re.findall(r"(\d+) per class: ([\d.]+)%", printed)}
    assert found.keys() == {p.per_class for p in points if not p.all_photos}, printed
    for point in points[:-1]:
        assert abs(found[point.per_class] - point.accuracy) <= 0.05, (point, printed)
    assert f"training photos: {points[-1].accuracy:.1%}" in printed


def test_the_code_builds_the_same_map(inside, colours_dir):
    code = next(c.value for c in inside.code if "features = np.concatenate" in c.value)
    assert str(colours_dir) in code and "TSNE" in code, "the layout chosen on the page"


def test_after_a_run_the_map_says_what_its_mistakes_are(bundled_dir, colours_dir):
    from test_app_train import open_train, train
    at = train(open_train(colours_dir), epochs=3, batch_size=8, learning_rate=0.01)
    at.switch_page("pages/inside.py").run()
    assert not at.exception, at.exception
    run = at.session_state["runs"].latest
    caption = next(c.value for c in at.caption if c.value.startswith("Each dot is one of 36 photos"))
    wrong = len(run.evaluation.mistakes)
    if wrong:
        assert f"Ringed in black: the {wrong} validation photo" in caption and "colours · run 1" in caption, caption
    else:
        assert caption.endswith("colours · run 1 gets every validation photo right: no mistake to ring."), caption


def test_after_training_the_placed_photos_get_the_runs_verdict_strangers_too(bundled_dir, colours_dir):
    """The map's lesson made concrete: the run trained on these photos names a green photo green, and still names
    Grace Hopper, like none of them, one of its colours."""
    import re
    from hubdemo import images
    from make_images import colour_photo
    from test_app_train import open_train, train
    at = train(open_train(colours_dir), epochs=3, batch_size=8, learning_rate=0.01)
    at.switch_page("pages/inside.py").run()
    uploader = at.file_uploader(key="inside_place")
    uploader.upload("mine.png", colour_photo((40, 200, 60), seed=5), "image/png")
    uploader.upload("hopper.jpg", images.sample_photo(), "image/jpeg").run()
    assert not at.exception, at.exception
    said = [m.value for m in at.markdown if m.value.startswith("**colours · run 1** calls it")]
    assert len(said) == 2 and said[0].startswith("**colours · run 1** calls it **green** ("), said
    assert re.fullmatch(r"\*\*colours · run 1\*\* calls it \*\*(red|green|blue)\*\* \(\d+%\)(, not sure)?\.",
                        said[1]), said
    assert not said[0].endswith("not sure."), "a green photo, surely green"
    assert [i.value for i in at.info if i.value.startswith("Nothing in colours is much like “hopper.jpg”")]
