"""AppTest in 简体中文: every page, in the states a lesson goes through, shows no untranslated English.

Every string a page sends to the browser (titles, text, captions, messages,
widget labels, options, help, placeholders, chart titles and axes) is read from
the page's element tree. Whatever is left once names are taken out (ImageNet's
class names, the dataset's, product names such as TensorFlow, file names, code)
must hold no English word: a string someone forgot to pass through ``_()``
fails here, with the string.
"""

import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from hubdemo import i18n, labels

TIMEOUT = 240

# Names that stay as they are in any language: products, formats, methods, people, and the app itself.
NAMES = """ImageNet TensorFlow Hub TF Keras tf_keras keras EfficientNet-Lite0 EfficientNet Lite0 MobileNetV2 SavedModel
TFLite Lite Grad-CAM PCA t-SNE UMAP Dropout dropout Dense softmax logit BatchNormalization WebRTC HTTPS https http
localhost Wi-Fi Jupyter Colab Python JPEG PNG HEIC WebP GIF BMP TIFF iPhone zip ipynb hubdemo labels.txt
metadata.json saved_model.pb LICENSE.txt Flickr CC-BY CC BY UCI scikit-learn matplotlib Kaggle CPU MB GB top-1
Tan Le Sandler al Alpaydin Kaynak Optical Recognition of Handwritten Digits KerasLayer hub.KerasLayer None
float32 streamlit-webrtc pip install requirements.txt tar Language English logits Flowers
tulip tulips dandelion roses sunflowers""".split()  # The last: the tutorial's flower classes, as folder names.


def allowed_words(extra=()) -> set[str]:
    words = set()
    for name in [*NAMES, *labels.imagenet_labels(1001), *extra]:
        words.update(re.findall(r"[A-Za-z]+", name))
    return {w.lower() for w in words}


def page_texts(at) -> list[str]:
    """Every string the page shows: each element's text fields, and its charts' titles and axis titles."""
    found = []

    def strings(message, path=""):
        for field, value in message.ListFields():
            name = field.name
            if name in SKIP_FIELDS:
                continue
            if field.type == field.TYPE_STRING:
                found.extend([value] if isinstance(value, str) else value)
            elif field.type == field.TYPE_MESSAGE:
                for item in ([value] if hasattr(value, "ListFields") else value):
                    strings(item, f"{path}.{name}")

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            if getattr(node, "type", "") in ("vega_lite_chart", "arrow_vega_lite_chart"):
                found.extend(chart_titles(json.loads(proto.spec)))
            elif getattr(node, "type", "") == "html" and proto.body.startswith("<style>"):
                # A style sheet shows only its generated words: Streamlit's own controls, translated.
                found.extend(json.loads(f'"{word}"') for word in re.findall(r'content:"((?:[^"\\]|\\.)*)"', proto.body))
            elif getattr(node, "type", "") != "code":
                strings(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [text for text in found if text.strip()]


SKIP_FIELDS = {"id", "form_id", "icon", "spec", "data", "url", "src", "format", "default", "type", "key",
               "element_hash", "code_text", "language", "theme", "selection_mode", "dataset", "styler",
               "column_order", "columns", "page_script_hash", "page_name", "url_path", "markup", "body_html",
               "mime", "file_name", "deploy_params", "placeholder_url", "width_config", "height_config", "autocomplete"}


def chart_titles(spec) -> list[str]:
    """Titles anywhere in a Vega-Lite spec: the chart's, each axis's, legend's and tooltip's."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "title" and isinstance(value, str):
                found.append(value)
            elif key not in ("data", "datasets", "transform", "params", "condition"):
                found.extend(chart_titles(value))
    elif isinstance(spec, list):
        for item in spec:
            found.extend(chart_titles(item))
    return found


def english(text: str, allowed: set[str]) -> list[str]:
    """The English words left in ``text`` once markup, code, paths and names are taken out."""
    text = re.sub(r"<[^>]*>|&#?\w+;", " ", text)  # HTML a page writes itself (the map's class key): its text counts.
    text = re.sub(r":material/\w+:|:(green|red|blue|orange|violet|gray|rainbow)\[", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)  # Code.
    text = re.sub(r"\S*[/\\]\S*|\S+\.(jpg|png|zip|txt|json|tflite|ipynb|pb|py)\b", " ", text)  # Paths, files.
    text = re.sub(r"--[a-z-]+|\b[A-Z0-9_]{3,}\b", " ", text)  # Options and environment variables.
    text = re.sub(r"\b\w*\d\w*\b", " ", text)  # Ids and hashes; numbers with units.
    text = re.sub(r"\b[A-Z]\w+Error\b", " ", text)  # An exception's name, quoted in a message.
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in allowed]


def assert_all_chinese(at, *names):
    assert not at.exception, at.exception
    allowed = allowed_words(names)
    leftovers = {text: words for text in page_texts(at) if (words := english(text, allowed))}
    assert not leftovers, "untranslated in a 简体中文 session:\n" + "\n".join(
        f"  {words} in {text[:160]!r}" for text, words in leftovers.items())


@pytest.fixture(autouse=True)
def reading_chinese():
    """The test reads the page as its student does: widgets' formatted options are compared in 简体中文."""
    with i18n.speaking("zh_CN"):
        yield


def open_app(page=None, default_data=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.session_state["kept_language"] = "zh_CN"  # As a browser sending Accept-Language: zh-CN, or the sidebar.
    if default_data:
        at.session_state["default_data"] = str(default_data)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_classifier_page_with_imagenets_answer_and_its_heatmap(bundled_dir):
    at = open_app()
    assert at.title[0].value == "模型在你的照片里看到了什么？"
    assert_all_chinese(at)
    at.toggle(key="classifier_heat").set_value(True).run()
    assert "它在哪里寻找“military uniform” · Grad-CAM" in json.dumps(page_texts(at), ensure_ascii=False)
    assert_all_chinese(at)
    at.radio(key="classifier_input").set_value("Camera snapshot").run()
    assert_all_chinese(at)
    at.radio(key="classifier_input").set_value("Live camera").run()
    assert_all_chinese(at)
    for option in ("Open a saved model (an export folder or .zip)…", "Other: a TF Hub URL or a SavedModel folder…"):
        at.selectbox(key="classifier_model").set_value(option).run()
        assert_all_chinese(at)
    at.text_input(key="classifier_handle").input("/no/such/model").run()
    assert at.error and "没有模型" in at.error[0].value, [e.value for e in at.error]
    assert_all_chinese(at)


def test_building_a_dataset_in_the_browser(bundled_dir):
    at = open_app("pages/grid.py")
    at.radio(key="dataset_source").set_value("Build your own (photos or camera)").run()
    assert_all_chinese(at, *typed_classes(at))
    for name in ("猫", "dog 🐶"):
        at.text_input(key="new_class_name").input(name)
        at.button[0].click().run()
    assert {"猫: 0 张照片", "dog 🐶: 0 张照片"} <= {e.label for e in at.expander}
    assert_all_chinese(at, *typed_classes(at))
    at.toggle(key="build_live").set_value(True).run()  # The recorder (AppTest has no WebRTC: it says so).
    assert at.warning and not at.exception
    assert_all_chinese(at, *typed_classes(at))


def typed_classes(at) -> list[str]:
    """The class names people typed in the builder (this session's, and what earlier tests left), as typed."""
    return [e.label.rsplit(":", 1)[0] for e in at.expander if ":" in e.label]


def test_a_lesson_in_chinese_dataset_training_results_export_grid_and_a_look_inside(colours_dir):
    colours = [p.name for p in colours_dir.iterdir()] + [colours_dir.name]  # Names: the classes, the dataset.
    at = open_app("pages/train.py", colours_dir)
    assert at.title[0].value == "教模型认识你自己的类别"
    assert_all_chinese(at, *colours)
    for key, value in {"epochs": 3, "batch_size": 8}.items():
        at.number_input(key=key).set_value(value)
    at.button(key="train").click().run()
    deadline = time.monotonic() + 180
    while at.session_state["runs"].latest.running or "验证准确率" not in [m.label for m in at.metric]:
        assert time.monotonic() < deadline, "training did not finish"
        assert_all_chinese(at, *colours)  # The progress and the live charts too.
        time.sleep(0.5)
        at.run()
    assert_all_chinese(at, *colours)
    at.button(key="export").click().run()
    assert any("已重新加载并在" in s.value for s in at.success), [s.value for s in at.success]
    assert_all_chinese(at, *colours)
    at.button(key="compare_button").click().run()  # Lite0 against Lite2, side by side.
    assert any("最准确" in c.value for c in at.caption)
    assert_all_chinese(at, *colours)
    at.number_input(key="learning_rate").set_value(0.02).run()  # The results now belong to an earlier run.
    assert any("之后修改了" in w.value for w in at.warning)
    assert_all_chinese(at, *colours)

    at.switch_page("pages/grid.py").run()
    assert_all_chinese(at, *colours)
    mine = "Yours: " + at.session_state["runs"].latest.label  # Named in the language it is read in.
    at.selectbox(key="grid_model").set_value(mine).run()
    assert any("准确率" in m.label for m in at.metric)
    assert_all_chinese(at, *colours)

    at.switch_page("pages/inside.py").run()
    assert at.title[0].value == "深入观察：迁移学习为什么有效？"
    assert_all_chinese(at, *colours)
    at.button(key="learning_curve").click().run()
    assert at.get("vega_lite_chart")
    assert_all_chinese(at, *colours)

    at.switch_page("pages/classifier.py").run()
    assert_all_chinese(at, *colours)


def test_the_classroom_pages_in_chinese(classroom, colours_dir):
    from make_images import jpeg
    teacher = open_app("pages/teacher.py")
    assert_all_chinese(teacher)
    teacher.text_input(key="passphrase").input("tulips")
    teacher.button[0].click().run()
    assert teacher.error[0].value == "口令不正确。"
    teacher.text_input(key="passphrase").input("tulip")
    teacher.button[0].click().run()
    teacher.text_input(key="project_classes").input("笔, cup 杯子 ☕")
    teacher.button[0].click().run()
    project = classroom.project()
    project.add_photo("笔", "p1", "a.jpg", jpeg(), by="someone")
    teacher.run()
    assert_all_chinese(teacher, "cup", "some")  # "some": the test's student, as their id begins.

    student = open_app("pages/project.py")
    assert_all_chinese(student, "cup")
    student.text_input(key="join_code").input(project.code).run()
    student.button[0].click().run()
    assert_all_chinese(student, "cup")
    student.switch_page("pages/grid.py").run()
    student.radio(key="dataset_source").set_value("A folder on this computer").run()
    student.text_input(key="dataset_folder").input("/etc").run()
    assert student.error and "在这个教室里" in student.error[0].value
    assert_all_chinese(student, "cup", "etc", colours_dir.name)
