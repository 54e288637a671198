"""Languages: the catalogues cover every string in the code, the language is chosen per session and per run,
and class names typed in any language survive training, export and reopening."""

import json
import os
import re
import subprocess
import sys
import threading

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from conftest import ROOT
from hubdemo import i18n, runs
from hubdemo.i18n import _

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def source_messages() -> set[str]:
    """Every translatable string in the app and the library, found as ``pybabel extract -F babel.cfg`` finds them."""
    method_map = [("tests/**.py", "ignore"), ("bench/**.py", "ignore"), ("**.py", "python")]
    found = extract_from_dir(str(ROOT), method_map=method_map, keywords={"_": None, "N_": None, "ngettext": (1, 2)})
    return {msg if isinstance(msg, str) else msg[0] for _fn, _line, msg, _c, _ctx in found}


def catalogues():
    return [(code, read_po(open(i18n.LOCALE_DIR / code / "LC_MESSAGES" / "hubdemo.po", "rb"), locale=code))
            for code in i18n.languages() if code != i18n.SOURCE]


def test_simplified_chinese_is_offered_with_its_own_name():
    assert i18n.languages() == {"en": "English", "zh_CN": "简体中文"}


@pytest.fixture
def a_new_language(tmp_path, monkeypatch):
    """The README's *Add a language*, done: ``pybabel init … -l fr`` on a copy of the catalogues, one string
    translated. The catalogues are read once per process, so their caches are emptied before and after."""
    import shutil
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    subprocess.run(["pybabel", "init", "-D", "hubdemo", "-i", str(locale / "hubdemo.pot"), "-d", str(locale), "-l", "fr"],
                   check=True, capture_output=True)
    po = locale / "fr" / "LC_MESSAGES" / "hubdemo.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "Train"\nmsgstr ""', 'msgid "Train"\nmsgstr "Entraîner"'),
                  encoding="utf-8")
    caches = (i18n.languages, i18n._own_name, i18n._read, i18n.translations)
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    yield
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_a_catalogue_made_as_the_readme_says_is_offered_by_its_own_name_and_spoken(a_new_language):
    """One file adds a language: offered in the sidebar as it calls itself (not as the code ``pybabel init``
    writes into its header), chosen by a French browser, its translated strings used and the rest in English."""
    assert i18n.languages() == {"en": "English", "fr": "français", "zh_CN": "简体中文"}
    assert i18n.from_accept_language("fr-FR,fr;q=0.9,en;q=0.8") == "fr"
    with i18n.speaking("fr"):
        assert _("Train") == "Entraîner"
        assert _("Stop") == "Stop"


@pytest.mark.parametrize("header, expected", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("zh", "zh_CN"), ("zh-TW,en;q=0.5", "zh_CN"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("fr-FR,fr;q=0.9", None), ("", None), (None, None),
    ("en;q=0.2,zh-CN;q=0.9", "zh_CN"), ("zh-CN;q=0,en", "en"), ("*", None)])
def test_the_browsers_accept_language_picks_the_catalogue(header, expected):
    assert i18n.from_accept_language(header) == expected


def test_every_string_in_the_code_is_translated_in_every_catalogue_with_the_same_placeholders():
    wanted = source_messages()
    assert len(wanted) > 400
    for code, catalogue in catalogues():
        entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
        missing = sorted(wanted - entries.keys())
        assert not missing, f"{code}: {len(missing)} strings have no translation, e.g. {missing[:5]}"
        stale = sorted(entries.keys() - wanted)
        assert not stale, f"{code}: translations of strings no longer in the code: {stale[:5]}"
        for msgid, entry in entries.items():
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            assert all(strings) and not entry.fuzzy, f"{code}: '{msgid[:60]}' is untranslated or fuzzy"
            for text in strings:
                assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), (code, msgid, text)


def test_the_template_a_new_language_starts_from_lists_every_string():
    template = read_po(open(i18n.LOCALE_DIR / "hubdemo.pot", "rb"))
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id} == source_messages()


def test_each_context_speaks_its_own_language():
    heard = {}

    def session(name, code):
        i18n.set_language(code)
        heard[name] = (_("Train"), runs.setting_words("learning_rate", 0.002), runs.status_words("training"))

    threads = [threading.Thread(target=session, args=("anna", "zh-CN")), threading.Thread(target=session, args=("bob", "en"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert heard["anna"] == ("训练", "学习率 0.002", "训练中")
    assert heard["bob"] == ("Train", "learning rate 0.002", "training")


def test_a_run_speaks_the_language_of_whoever_started_it():
    with i18n.speaking("zh_CN"):
        run = runs.RunBook().new(runs.TrainConfig(), feature_handle="h", dataset_name="handwritten digits",
                                 dataset_key="k")
    assert run.language == "zh_CN"
    run.set_status("queued")
    with i18n.speaking(run.language):  # As its training thread, its queue place and its worker do.
        run.stop()
        assert run.label == "手写数字 · 第 1 次运行"
    assert run.snapshot().message == "在等待训练进程时已取消：没有进行任何训练。"
    assert run.label == "handwritten digits · run 1", "read in English, it is named in English"


def test_an_untranslated_name_stays_as_typed():
    with i18n.speaking("zh_CN"):
        assert _("cup 杯子 ☕") == "cup 杯子 ☕" and _("") == ""


def test_the_command_line_speaks_the_terminals_language(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"not a photo")
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": ""}
    out = subprocess.run([sys.executable, "-m", "hubdemo", "train", str(tmp_path / "nowhere"), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode != 0 and "没有文件夹" in out.stderr, out.stderr
    env["LANG"] = "C.UTF-8"
    out = subprocess.run([sys.executable, "-m", "hubdemo", "train", str(tmp_path / "nowhere"), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert "No folder at" in out.stderr, out.stderr


def test_the_command_lines_help_is_readable_in_the_terminals_language():
    def help_text(language, *command):
        env = {**os.environ, "LANG": language, "LANGUAGE": ""}
        out = subprocess.run([sys.executable, "-m", "hubdemo", *command, "--help"], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout
    english = help_text("C.UTF-8")
    assert "\n    train         train a new head, export it and check the export\n" in english, "one command a line"
    assert "python -m hubdemo train flowers/ --out exports/flowers" in english, "an example to copy"
    chinese = help_text("zh_CN.UTF-8")
    assert chinese.startswith("用法：python -m hubdemo") and "训练一个新的输出层" in chinese, chinese
    train = help_text("zh_CN.UTF-8", "train")
    assert "显示此帮助并退出" in train and "（默认：20）" in train, train  # Every option explained, defaults filled in.
    assert "show this help" not in train and "options:" not in train, "no English of argparse's own"



def test_the_command_line_says_what_is_wrong_with_it_in_the_terminals_language():
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": ""}
    out = subprocess.run([sys.executable, "-m", "hubdemo", "train", "--epochs", "many"], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 2 and "错误：--epochs 需要一个数字（int），而不是 'many'" in out.stderr, out.stderr
    out = subprocess.run([sys.executable, "-m", "hubdemo", "train"], capture_output=True, text=True,
                         env={**env, "LANG": "C.UTF-8"}, cwd=ROOT, timeout=300)
    assert out.returncode == 2 and out.stderr.endswith("error: missing: DATA_DIR, --out\n"), out.stderr


def test_class_names_in_any_language_survive_training_export_and_reopening(extractor, tmp_path):
    from hubdemo import datasets, export, saved, training
    from make_images import colour_dataset
    names = {"猫 cat": (220, 40, 40), "dog 🐶": (40, 60, 220), "très bien": (40, 200, 60)}
    data = datasets.load_folder(colour_dataset(tmp_path / "我的 数据", per_class=8, classes=names))
    assert sorted(data.class_names) == sorted(names)
    run = runs.RunBook().new(runs.TrainConfig(epochs=3, batch_size=8, learning_rate=0.01),
                             feature_handle=extractor.handle, dataset_name=data.name, dataset_key=data.fingerprint)
    training.train(data, run, extractor)
    folder = export.export_run(run, tmp_path / "exports" / export.export_name(run.label)).folder
    assert (folder / "labels.txt").read_text(encoding="utf-8").splitlines() == list(data.class_names)
    assert json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["class_names"] == list(data.class_names)
    reopened = saved.open_folder(folder)
    assert list(reopened.classifier.labels) == list(data.class_names)
    assert reopened.metadata["dataset"] == "我的 数据"


def test_a_download_made_after_the_page_run_speaks_the_pages_language():
    """Streamlit makes a download's data when it is clicked, outside the page's run: it keeps the page's language."""
    import widgets
    from hubdemo.i18n import _
    made = []
    with i18n.speaking("zh_CN"):
        download = widgets.in_page_language(lambda: _("Export"))
    plain = threading.Thread(target=lambda: made.append((download(), _("Export"))))  # No page, no language.
    plain.start()
    plain.join()
    assert made == [("导出", "Export")]


def test_the_live_video_component_gets_every_word_it_shows_translated():
    import camera
    camera.import_webrtc()  # As the app does: a plain import after TensorFlow's segfaults.
    from streamlit_webrtc.config import Translations
    visible = set(Translations.__annotations__) - {"mute_microphone", "unmute_microphone", "select_microphone"}
    assert set(camera.webrtc_words()) == visible, "video only: no microphone words are shown"
    with i18n.speaking("zh_CN"):
        words = camera.webrtc_words()
    assert all(not re.search(r"[A-Za-z]", word) for word in words.values()), words


def test_sentences_are_joined_as_each_script_writes_them():
    assert i18n.sentences("Added 5 photos.", "", "Record again.") == "Added 5 photos. Record again."
    assert i18n.sentences("已添加 5 张照片。", "请再录一次。") == "已添加 5 张照片。请再录一次。"
    assert i18n.sentences("类别 tulips：只有一段录制（live）", "x") == "类别 tulips：只有一段录制（live）x"
    assert i18n.sentences() == "" and i18n.sentences("", "Only.") == "Only."


def test_names_are_listed_as_each_language_lists_them():
    with i18n.speaking("zh_CN"):
        assert i18n.word_list(["小明", "安娜", "老师"]) == "小明、安娜和老师"
        assert i18n.word_list(["笔", "杯子", "手机"], "or") == "笔、杯子或手机"
    with i18n.speaking("en"):
        assert i18n.word_list(["pen", "cup", "phone"], "or") == "pen, cup, or phone"
        assert i18n.word_list(["Mei", "Anna", "The teacher"]) == "Mei, Anna, and The teacher"
        assert i18n.word_list(["Mei"]) == "Mei" and i18n.word_list([]) == ""
    with i18n.speaking("tlh"):  # A catalogue a teacher added for a language Babel knows nothing of.
        assert i18n.word_list(["Mei", "Anna"]) == "Mei, Anna"
