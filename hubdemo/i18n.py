"""The languages people read the app in: English as written in the code, the others from gettext catalogues.

Every sentence a person reads goes through :func:`_` (or :func:`ngettext`
where a number decides the form). The translations are plain gettext ``.po``
files, ``hubdemo/locale/<language>/LC_MESSAGES/hubdemo.po``, compiled in memory
by Babel the first time they are needed: adding a language is adding one file
(README, "Add a language").

The language is a context variable, not a global: a Streamlit server runs many
sessions at once, each script run sets its session's language before anything
is shown, and work done for a run elsewhere (its training thread, its place in
the class's queue, a worker process) speaks the language the run was started in
(:func:`speaking`). The command line reads ``LANGUAGE``/``LC_ALL``/``LANG``.

Messages with values use named placeholders, ``_("Run {number}").format(number=n)``,
so a translation may put them in its own order.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import io
import os
import re
from pathlib import Path
from typing import Callable

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "hubdemo"
SOURCE = "en"  # The language the code is written in: needs no catalogue.

_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("hubdemo_language", default=None)
_session_language: Callable[[], str | None] = lambda: None


def N_(message: str) -> str:
    """Marks a string for translation where it is defined (a table, a constant); :func:`_` translates it where shown."""
    return message


@functools.cache
def languages() -> dict[str, str]:
    """Every language there is a catalogue for, by code, each named in itself: ``{"en": "English", "zh_CN": "简体中文"}``.

    Read once per process (every page asks): a catalogue added later is offered at the next start.
    """
    codes = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return {SOURCE: "English", **{code: _own_name(code) for code in codes}}


@functools.cache
def _own_name(code: str) -> str:
    """The catalogue's ``Language-Team`` if it names the language, else Babel's name of it in itself.

    ``pybabel init`` fills the team with the code and a placeholder address (``fr <LL@li.org>``): that
    names nothing, so a new catalogue is offered as Babel calls it (``français``) until its team is set.
    """
    team, _sep, address = _header(code, "Language-Team").partition("<")
    team = team.strip()
    if team and team.replace("-", "_") != code and "LL@li.org" not in address:
        return team
    from babel import Locale
    locale = Locale.parse(code)
    return locale.get_display_name(locale) or code


def _header(code: str, field: str) -> str:
    """One field of a catalogue's header, read without parsing the whole catalogue (the sidebar needs it at once)."""
    with open(LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po", encoding="utf-8") as f:
        for line in f:
            if line.startswith(f'"{field}:'):
                return line.strip().strip('"').partition(":")[2].replace("\\n", "").strip()
            if line.startswith("#:"):  # The header is over.
                break
    return ""


@functools.cache
def _read(code: str):
    from babel.messages.pofile import read_po
    with open(LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return read_po(f, locale=code, domain=DOMAIN)


@functools.cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``code`` (English: the code's own strings). Fuzzy entries are not used."""
    if code == SOURCE or code not in languages():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    compiled = io.BytesIO()
    write_mo(compiled, _read(code), use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language() -> str:
    """The language of whatever is being shown now: this context's, this session's, or the terminal's."""
    return _language.get() or _session_language() or from_environment()


def use_session_language(getter: Callable[[], str | None]) -> None:
    """Where the app keeps each session's language, for code that runs outside :func:`set_language`'s context.

    Streamlit runs a page's fragments (the parts that refresh on a timer) in
    threads of their own, without the rest of the page: they ask ``getter``.
    """
    global _session_language
    _session_language = getter


def set_language(code: str | None) -> str:
    """Use ``code`` (a catalogue's code, or any tag :func:`best_match` understands) from here on, in this context."""
    chosen = best_match([code or ""]) or SOURCE
    _language.set(chosen)
    return chosen


@contextlib.contextmanager
def speaking(code: str):
    """Within the block, messages are in ``code``: for work done for someone else (a run's thread, its queue place)."""
    token = _language.set(code)
    try:
        yield
    finally:
        _language.reset(token)


def sentences(*parts: str) -> str:
    """Sentences one after another as each script writes them: a space after ``.``, none after ``。``.

    Decided by how each sentence ends, not by the language: a Chinese page quotes English names too.
    """
    text = ""
    for part in filter(None, parts):
        text += ("" if not text or text.endswith(("。", "！", "？", "）", "”")) else " ") + part
    return text


def word_list(items: list[str], style: str = "standard") -> str:
    """Names in a list as the current language writes one: ``Mei, Anna, and Li`` / ``小明、安娜和李``
    (``style="or"``: ``pen, cup, or phone`` / ``笔、杯子或手机``)."""
    from babel.core import UnknownLocaleError
    from babel.lists import format_list
    try:
        return format_list(list(items), style=style, locale=language().replace("-", "_"))
    except (UnknownLocaleError, ValueError):  # A catalogue added for a language Babel does not describe.
        return ", ".join(items)


def _(message: str) -> str:
    """``message`` in the current language; as written when there is no translation (or nothing to translate)."""
    return translations(language()).gettext(message) if message else message


def every_language(message: str) -> set[str]:
    """``message`` in every language there is: to recognise a name made in someone else's language."""
    return {translations(code).gettext(message) for code in languages()}


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` of a message, in the current language (Chinese has one form, English two)."""
    return translations(language()).ngettext(singular, plural, n)


def best_match(tags: list[str]) -> str | None:
    """The first catalogue matching a list of language tags (``zh-CN``, ``zh_Hans``, ``zh``, ``en-GB``), best first.

    An exact match wins, then the same language in another region or script
    (a ``zh-TW`` reader gets Simplified Chinese rather than English).
    """
    available = list(languages())
    lowered = {code.lower(): code for code in available}
    for tag in tags:
        tag = tag.strip().replace("-", "_")
        if not tag:
            continue
        if tag.lower() in lowered:
            return lowered[tag.lower()]
        base = tag.split("_")[0].lower()
        for code in available:
            if code.split("_")[0].lower() == base:
                return code
    return None


def from_accept_language(header: str | None) -> str | None:
    """The catalogue a browser asks for in its ``Accept-Language`` header (``zh-CN,zh;q=0.9,en;q=0.8``), or None."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = re.search(r"q=([0-9.]+)", params)
        try:
            weight = float(quality.group(1)) if quality else 1.0
        except ValueError:
            weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, position, tag))
    return best_match([tag for _w, _p, tag in sorted(ranked)])


def from_environment() -> str:
    """The terminal's language (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), if there is a catalogue for it."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            tags = [v.split(".")[0] for v in value.split(":")]
            if tags[0] in ("C", "POSIX"):
                return SOURCE
            return best_match(tags) or SOURCE
    return SOURCE
