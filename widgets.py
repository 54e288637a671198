"""UI pieces shared by pages: the language, remembered widget values, messages, model loading and result views.

Widget values vanish when a page stops showing the widget, so what the user
chose is copied into plain session state (``remembered``): going to the
training page and back keeps the dataset. The dataset picker is in
``dataset_picker.py``, the model pickers in ``model_picker.py``.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import cached
from hubdemo import charts, i18n, models
from hubdemo.errors import HubDemoError
from hubdemo.i18n import N_, _, ngettext

ROUTER = Path(__file__).with_name("streamlit_app.py")


def language_ui() -> None:
    """This session's language: the browser's at first, then whatever is picked in the sidebar.

    The browser's language is the one it reports (``navigator.language``, the first of its preferred
    languages), else its ``Accept-Language`` header. In a browser they agree; but the header Streamlit
    keeps is the websocket's, which a browser with its locale set from outside (a test's Chromium since
    version 150) sends in the browser's own default. Set before anything is drawn, so the whole page speaks it.
    """
    names = i18n.languages()
    browser = (i18n.best_match([st.context.locale or ""])
               or i18n.from_accept_language(st.context.headers.get("Accept-Language")) or i18n.SOURCE)
    chosen = st.sidebar.selectbox("Language · 语言", list(names), format_func=names.get,
                                  **remembered("language", browser, options=list(names)))
    i18n.set_language(chosen)
    streamlit_words_ui()


def streamlit_words_ui() -> None:
    """Streamlit's own words on its uploader and camera, in the page's language.

    Those controls take no text from the app (their button says "Upload", the
    camera's "Take Photo"), so in a language other than English a style sheet
    hides each word and shows the translation in its place (CSS generated
    content, which screen readers read too). The words come from the catalogues
    like every other; English pages are left as Streamlit draws them.
    """
    if i18n.language() == i18n.SOURCE:
        return
    limit = _("{mb} MB per file").format(mb=st.get_option("server.maxUploadSize"))
    words = [  # (where, the translation, its size in pixels: Streamlit's own for that text)
        ('[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p', _("Upload"), 14),
        ('[data-testid="stFileUploaderDropzoneInstructions"] span', limit, 14),
        ('[data-testid="stCameraInputButton"]', _("Clear photo"), 16),  # The camera's button once a photo is taken…
        ('[data-testid="stCameraInputWebcamComponent"] [data-testid="stCameraInputButton"]', _("Take Photo"), 16),
        ('[data-testid="stCameraInputWebcamComponent"] p', _("This app would like to use your camera."), 16),
        ('[data-testid="stCameraInputWebcamComponent"] p a', _("Learn how to allow access."), 16),
    ]
    rules = "".join(f"{where}{{font-size:0}}{where}::after{{content:{json.dumps(text, ensure_ascii=False)};"
                    f"font-size:{size}px}}" for where, text, size in words)
    st.html(f"<style>{rules}</style>")


def in_page_language(make):
    """``make`` as a download button's deferred ``data``, speaking the page's language.

    Streamlit calls such a callable when the button is clicked, outside the page's run, where the
    session's language is not known: it is taken now and used then.
    """
    language = i18n.language()

    def made():
        with i18n.speaking(language):
            return make()
    return made


def _session_language() -> str | None:
    """The language kept in this session's state, for fragments (they run without the router)."""
    if get_script_run_ctx() is None:
        return None
    return st.session_state.get("kept_language") or st.session_state.get("language")


i18n.use_session_language(_session_language)


def use_router() -> None:
    """Run this page inside streamlit_app.py's frame, even when Streamlit started the page alone.

    With a pages/ folder present Streamlit starts in its legacy multipage mode
    (and AppTest starts every run in it): until the router's st.navigation has
    run, a visit to /grid runs pages/grid.py alone, without the frame, the
    sidebar or the --data option. Then the router is run here, in the same run
    (a rerun would drop the click that caused this one), and it runs this page.
    """
    from streamlit.runtime.pages_manager import PagesManager
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(ROUTER), run_name="__main__")
        st.stop()


def remembered(key: str, default=None, *, options=None) -> dict:
    """Widget arguments that keep its value across pages: ``st.radio(..., **remembered("k"))``.

    Streamlit forgets a widget's value once a page without it has run, so the
    value is copied to a plain key on every change and given back before the
    widget is drawn again. With ``options``, a kept value that is no longer
    among them (a model let go of) falls back to ``default``.
    """
    value = st.session_state.get(f"kept_{key}", default)
    if options is not None and value not in options:
        st.session_state.pop(key, None)
        value = default
    if value is not None:
        st.session_state[key] = value
    return {"key": key, "on_change": _keep, "args": (key,)}


def session_memo(name: str, key, compute):
    """``compute()``'s result, kept in this session under ``name`` while ``key`` stays the same."""
    kept = st.session_state.get(name)
    if kept is None or kept[0] != key:
        kept = st.session_state[name] = (key, compute())
    return kept[1]


def _keep(key: str) -> None:
    st.session_state[f"kept_{key}"] = st.session_state[key]


METHOD_TITLES = {"gradcam": N_("Grad-CAM"), "occlusion": N_("Occlusion"),
                 "integrated-gradients": N_("Integrated gradients")}
METHODS_HELP = N_("**Grad-CAM** reads the network's own inner maps: instant, for the bundled "
                  "EfficientNet-Lite networks and models trained on them. **Occlusion** greys one patch at a time and "
                  "watches the answer drop: any model, about a second. **Integrated gradients** follows the "
                  "gradient from a grey picture to the photo: any model, under a second.")


def method_title(method: str) -> str:
    """A heatmap method's name, in the reader's language."""
    return _(METHOD_TITLES[method])


def plain(text: str) -> str:
    """``text`` shown as written: Markdown's special characters escaped (paths have ``_`` and ``*``).

    Backticks are kept: library messages use them for code, as in "`epochs`".
    """
    parts = URL.split(text)  # Web addresses at odd positions: linked as they are, not escaped.
    return "".join(f"<{part}>" if odd else re.sub(r"([\\*_\[\]~$<>|#])", r"\\\1", part)
                   for odd, part in zip(itertools.cycle((False, True)), parts))


URL = re.compile(r"(https?://[^\s'\"<>]*[^\s'\"<>.,;:!?)])")  # Not the sentence's full stop after it.


def name_list(items: list[str]) -> str:
    """Names people typed (classes, students), listed as the language lists them, each shown as typed."""
    return i18n.word_list([plain(item) for item in items])


def colour_key_ui(colours: dict[str, str]) -> None:
    """Which colour is which class or run, as words that wrap to the screen's width (a chart's own legend cannot)."""
    entries = "".join(f'<span style="display:inline-block;margin:0 1.1em 0.2em 0">'
                      f'<span style="color:{colour};font-size:1.25em">&#9679;</span> {html.escape(name)}</span>'
                      for name, colour in colours.items())
    st.markdown(f'<div data-testid="colour-key" style="font-size:0.9rem">{entries}</div>', unsafe_allow_html=True)


def show_error(err: Exception | str, where=st) -> None:
    """A library error as one readable message (never a traceback)."""
    where.error(plain(str(err)), icon=":material/error:")


def duration(seconds: float) -> str:
    """``about 40 seconds``, ``about 7 minutes``: how long something will take, in words."""
    if seconds < 90:
        return _("about {seconds:.0f} seconds").format(seconds=max(5, round(seconds / 5) * 5))
    return _("about {minutes:.0f} minutes").format(minutes=round(seconds / 60))


def these_photos(n: int) -> str:
    """``this photo`` or ``these 3 photos``: what a message about photos just added refers to."""
    return _("this photo") if n == 1 else _("these {photos}").format(photos=count(n, "photo"))


def count(n: int, noun: str) -> str:
    """``1 photo``, ``10 photos``, ``3 classes``: a number of things, in the reader's language.

    ``noun`` is one of the few things the pages count; each has both forms
    written out, so every language can give its own (Chinese has one).
    """
    forms = {"photo": lambda: ngettext("{n:,} photo", "{n:,} photos", n),
             "validation photo": lambda: ngettext("{n:,} validation photo", "{n:,} validation photos", n),
             "class": lambda: ngettext("{n:,} class", "{n:,} classes", n),
             "run": lambda: ngettext("{n:,} run", "{n:,} runs", n),
             "session": lambda: ngettext("{n:,} session", "{n:,} sessions", n),
             "recording": lambda: ngettext("{n:,} recording", "{n:,} recordings", n)}
    return forms[noun]().format(n=n)


def classifier_ui(handle: str):
    """The cached ImageNet classifier, with a progress message while it builds or loads; None after an error."""
    return _load_ui(cached.classifier, handle, _("Loading the model {handle}…"))


def extractor_ui(handle: str):
    """The cached feature extractor, with a progress message while it builds or loads; None after an error."""
    return _load_ui(cached.extractor, handle, _("Loading the feature extractor {handle}…"))


def spinner(message: str):
    """``st.spinner`` with its clock of elapsed time where the page is in English: the clock speaks only English."""
    return st.spinner(message, show_time=i18n.language() == i18n.SOURCE)


def _load_ui(load, handle: str, loading: str):
    message = (_("Building {model} from its bundled weights. This happens once, the first time it is "
                 "used, and takes about 15 seconds…").format(model=models.short_name(handle))
               if models.needs_build(handle)
               else loading.format(handle=handle))
    try:
        with spinner(plain(message)):
            return load(handle)
    except HubDemoError as err:
        show_error(err)
        return None


GALLERY_WIDTH = 132  # pixels a photo in galleries and the grid: six a row on a laptop, two on a phone


GALLERY_AT_MOST = 30  # Photos a gallery shows: a page of 3,000 thumbnails would take a minute to draw.


def gallery_ui(items: list[tuple[str, str]], heat_of=None) -> None:
    """Thumbnails of image files, each with its caption; with ``heat_of`` (a model), where it looked instead.
    The first :data:`GALLERY_AT_MOST`, saying so when there are more.

    A wrapping row, not columns: columns stack one photo per line on a phone, a wrapping row keeps two.
    """
    total, items = len(items), items[:GALLERY_AT_MOST]
    heats = None
    if heat_of is not None:
        with st.spinner(_("Working out where the model looked…")):
            heats = cached.file_heatmaps(heat_of, [path for path, _ in items], 160)
    with st.container(horizontal=True, wrap=True):
        for index, (path, caption) in enumerate(items):
            picture = heats[index] if heats is not None else cached.thumbnail(path, 160)
            if picture is not None:
                st.image(picture, caption=plain(caption) or None, width=GALLERY_WIDTH)  # Class names as typed.
    if total > len(items):
        st.caption(_("The first {shown} of {n_photos}.").format(shown=len(items), n_photos=total))


def heat_toggle_ui(model, key: str, label: str = ""):
    """A toggle for Grad-CAM heatmaps when ``model`` allows them; returns the model to explain, or None."""
    from hubdemo import explain
    if model is None or "gradcam" not in explain.methods_for(model):
        return None
    on = st.toggle(label or _("Show where the model looked"), key=key,
                   help=_("Grad-CAM: red where the model found the evidence for its answer."))
    return model if on else None


def evaluation_ui(ev, *, key: str, what: str, model=None) -> None:
    """Accuracy per class, the confusion matrix (click a cell to see its photos) and the mistakes.

    Args:
        ev: a ``hubdemo.evaluation.Evaluation``.
        key: distinguishes this view's chart selection from another's on the same page.
        what: which model on which photos, for the headings ("flowers · run 2 on its validation photos").
        model: the model evaluated; when Grad-CAM can read it, the galleries can show where it looked.
    """
    per_class, confusion = st.columns([2, 3])
    per_class.markdown(_("**Right, per class**"))
    per_class.altair_chart(charts.per_class_accuracy(ev.per_class))
    confusion.markdown(_("**Confusion matrix** (click a cell to see its photos)"))
    event = confusion.altair_chart(charts.confusion_heatmap(ev.confusion, ev.class_names), on_select="rerun",
                                   key=f"{key}_confusion", width="stretch")
    heat_of = heat_toggle_ui(model, f"{key}_gallery_heat", _("In the photos below, show where the model looked"))
    picked = (event.selection.get(charts.CONFUSION_SELECTION) or [None])[0] if event else None
    if picked:
        names = list(ev.class_names)
        true, predicted = names.index(picked["true"]), names.index(picked["predicted"])
        cell = ev.cell(true, predicted)
        verdict = _("right") if true == predicted else _("wrong")
        st.markdown(_("**{count} of {true} predicted as "
                      "{predicted}** ({verdict}; {what})").format(
                          count=count(len(cell), 'photo'), true=plain(picked['true']),
                          predicted=plain(picked['predicted']), verdict=verdict, what=plain(what)))
        gallery_ui(_verdict_captions(cell), heat_of=heat_of)
    mistakes = ev.mistakes
    with st.expander(_("Mistakes ({n_mistakes}) · {what}").format(
            n_mistakes=len(mistakes), what=plain(what)), expanded=bool(mistakes)):
        if not mistakes:
            st.success(_("None: every photo was predicted right."))
        if heat_of is not None and mistakes:
            st.caption(_("Why did it call this rose a tulip? Each photo shows where the model found the evidence for "
                         "the class it chose."))
        gallery_ui(_verdict_captions(mistakes), heat_of=heat_of)


def _verdict_captions(verdicts) -> list[tuple[str, str]]:
    """Each judged photo with ``true → predicted (probability)``, for :func:`gallery_ui`."""
    return [(str(v.file), f"{v.true} → {v.predicted} ({v.probability:.0%})") for v in verdicts]
