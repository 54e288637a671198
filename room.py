"""The Streamlit side of classroom mode: this server's policy, this session's own workspace, the join box.

The rules live in :mod:`hubdemo.classroom` and :mod:`hubdemo.workspace`;
this module only knows which session is asking.
"""

from __future__ import annotations

import functools
import io
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import streamlit as st
from streamlit.runtime import get_instance
from streamlit.runtime.scriptrunner import StopException, get_script_run_ctx

import cached
from hubdemo import archives, class_project, classroom, i18n, paths
from hubdemo.class_project import ClassProject
from hubdemo.desks import Desks
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _
from hubdemo.runs import Run, RunBook
from hubdemo.trainers import TrainerPool
from hubdemo.workspace import LOCAL, Workspace


@functools.cache
def policy() -> classroom.Classroom:
    """The server's policy, from the options after ``--`` (the same for every session)."""
    return classroom.from_args(sys.argv[1:])[1]


def args():
    return classroom.from_args(sys.argv[1:])[0]


@st.cache_resource(show_spinner=False)
def workspace() -> Workspace:
    p = policy()
    return Workspace(session_quota=p.session_quota, total_quota=p.total_quota)


def session_id() -> str:
    """This browser tab's desk (:data:`LOCAL` outside a script run): its files are its own, in any mode.

    The desk, not Streamlit's session: a reload is a new session at the same desk (:func:`sit_down`).
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return LOCAL
    return st.session_state.get("desk") or ctx.session_id


# --- Desks: a reload keeps the work -------------------------------------------------------

DESK_KEYS = ("runs", "opened_models", "exports", "comparison", "refreshed_runs", "compare_seen", "inside_curve",
             "grid_evaluation")
"""What a desk keeps of a session's state, besides every ``kept_`` value (the remembered settings).

Not the teacher's unlock: a copied address must not carry it. Not widgets' own values (a
button's, an uploader's): Streamlit refuses those set from outside.
"""
LEFT_WAIT_SECONDS = 2.0  # A reload's new page may start before the server has noticed the old one close.


DESKS_FILE = "desks.json"
RUNS_FILE = "runs.json"


@st.cache_resource(show_spinner=False)
def desks() -> Desks:
    """Every desk of this server; those of its last run too, whose files wait on disk (a restart loses nobody's)."""
    return Desks(store=paths.workspace_dir() / DESKS_FILE)


def _connected() -> set[str] | None:
    """The sessions with a browser connected now; None when unknown (no server, as under AppTest)."""
    try:
        return {info.session.id for info in get_instance()._session_mgr.list_active_sessions()}
    except Exception:  # noqa: BLE001
        return None


def sit_down() -> None:
    """First in every run: this page's desk, named in its address (``?desk=…``); a reload takes up its work again."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    state = st.session_state
    if "desk" not in state:
        asked = st.query_params.get("desk")
        held = desks().get(asked) if asked else None
        deadline = time.monotonic() + LEFT_WAIT_SECONDS
        while held is not None and time.monotonic() < deadline and held.holder in (_connected() or ()):
            time.sleep(0.1)  # The reloaded page's old session is still closing.
        desk, resumed = desks().sit(ctx.session_id, asked, _connected(), st.context.ip_address)
        if resumed:
            for key, value in desk.state.items():
                state[key] = value
            if "runs" not in state:  # The app restarted since: the runs and their models' weights are on disk.
                with st.spinner(_("Bringing back your runs and their models…")):
                    state["runs"] = RunBook.load(_runs_file(desk.name), rebuild=rebuild_model)
        state["desk"] = desk.name
    if st.query_params.get("desk") != state["desk"]:
        st.query_params["desk"] = state["desk"]  # Also after a page switch, which clears the address's query.


def rebuild_model(run: Run, class_names: list[str], weights) -> object:
    """A run's model, made again from its weights kept on disk, on the extractor every page shares."""
    from hubdemo import training
    extractor = cached.extractor(run.feature_handle) if run.config.uses_cached_features else None
    return training.rebuild(run, class_names, weights, extractor)


def keep_desk(held: Desks) -> None:
    """Hand the desk what this session keeps now: the router calls it before the page runs and after.

    Before: what the widgets' callbacks changed. After: what the page changed, unless it ended with
    ``st.stop()``, after which every Streamlit call raises again (so does this one, quietly). ``held``
    is :func:`desks`, fetched before the page ran for the same reason.
    """
    try:
        desk = held.get(st.session_state.get("desk", ""))
        if desk is None or desk.holder != get_script_run_ctx().session_id:
            return
        desk.state = {key: value for key, value in st.session_state.items()
                      if key in DESK_KEYS or key.startswith("kept_")}
    except StopException:
        return
    held.save()  # Its settings, for after a restart (written only when they changed).
    book = desk.state.get("runs")
    if isinstance(book, RunBook):  # Its runs, likewise; and each run that ends is written as it ends.
        book.file = _runs_file(desk.name)
        book.save(book.file)


def _runs_file(desk: str) -> Path:
    """Where a desk's finished runs are kept on disk, with its other files (and cleaned with them)."""
    return workspace().folder(desk) / RUNS_FILE


def connected_of(sids) -> set[str]:
    """Those of ``sids`` (desks, or sessions without one) with a page connected now (all of them when unknown)."""
    connected = _connected()
    if connected is None:
        return set(sids)
    return {sid for sid in sids if ((desk := desks().get(sid)) and desk.holder or sid) in connected}


def active_sessions() -> set[str] | None:
    """The desks (and sessions) whose files are kept: connected, or left less than a while ago; None when unknown.

    Unknown (no server, as under AppTest, or a Streamlit whose session manager
    changed) means nobody's files are cleaned as gone: never someone's by mistake.
    """
    connected = _connected()
    if connected is None:
        return None
    return desks().kept(connected) | connected


def folder(kind: str) -> Path:
    """This session's own folder of one kind (uploads, built, models, exports)."""
    return workspace().folder(session_id(), kind)


def make_room(needed: int, what: str, keep=()) -> None:
    """Space for ``needed`` more bytes in this session's workspace, or a HubDemoError saying why not."""
    workspace().make_room(session_id(), needed, active=active_sessions(), keep=keep, what=what)


def zip_destination(data: bytes, kind: str, what: str) -> tuple[Path, int]:
    """Where this session's upload of ``data`` is extracted, and its byte budget; space made first.

    Once per content: the same archive again reuses its folder.
    """
    dest = folder(kind) / archives.content_folder_name(data)
    if dest.exists():
        dest.touch()  # Newest: cleaned last.
        return dest, archives.MAX_TOTAL_BYTES
    needed = archives.zip_expanded_size(io.BytesIO(data))
    make_room(needed, what)
    return dest, needed


EXPORT_BYTES = 60 * 1024 * 1024  # A Lite0 export: SavedModel ~17 MB, two TFLite files ~18 MB, and room to spare.


def exports_dir() -> Path:
    """Where this session's exports go: its own folder in a classroom (downloaded through the browser)."""
    from hubdemo import export
    if not policy().on:
        return export.exports_dir()
    make_room(EXPORT_BYTES, _("an export"))
    return folder("exports")


@st.cache_resource(show_spinner=False)
def trainers() -> TrainerPool:
    """The classroom's training workers, shared by every session."""
    return TrainerPool(policy().trainers)


def start_training(dataset, run, extractor=None):
    """Train ``run``: in a worker process through the class's queue in a classroom, else on a thread here."""
    if policy().on:
        return trainers().submit(dataset, run, extractor)
    from hubdemo import training
    return training.start(dataset, run, extractor)


def train_and_wait(dataset, run, extractor=None, *, waiting: Callable[[Run], None] = lambda run: None):
    """Train ``run`` and return its model, or None if it was stopped: as :func:`start_training`, but this thread waits.

    For a comparison, which trains several runs one after the other. In a classroom the runs still go through
    the class's queue to a worker process; ``waiting(run)`` is called while they wait or train.

    Raises:
        HubDemoError: the run failed (its message says why).
    """
    if not policy().on:
        from hubdemo import training
        return training.train(dataset, run, extractor)
    trainers().submit(dataset, run, extractor)
    try:
        while run.running:
            waiting(run)  # Where Streamlit stops this script when the student clicks (Cancel, or anything else).
            time.sleep(0.25)
    finally:
        if run.running:  # Left before the end: the run is wanted no more, so it gives up its place or its trainer.
            run.stop()
    snap = run.snapshot()
    if snap.status == "error":
        raise HubDemoError(snap.message)
    return run.model  # None when stopped before training began.


# --- Every session, for the teacher --------------------------------------------------------

@dataclass
class SessionEntry:
    """What the teacher's page sees of a session: its runs, its name, whether it is the teacher's."""

    runs: RunBook
    name: str = ""
    teacher: bool = False  # Unlocked the teacher's page in this server: its class-project runs reach the students.
    was_teacher: bool = False  # Unlocked it at some time: only for the name shown ("The teacher"), never for rights.
    seen: float = field(default_factory=time.time)


@st.cache_resource(show_spinner=False)
def sessions() -> dict[str, SessionEntry]:
    """Every session of the class, by id (entries of closed tabs are dropped as they are noticed)."""
    return {}


def register(runs: RunBook) -> SessionEntry | None:
    """Put this session on the teacher's list (classroom only); called on every page."""
    if not policy().on:
        return None
    entry = sessions().setdefault(session_id(), SessionEntry(runs))
    entry.runs, entry.seen = runs, time.time()
    if not entry.name:  # After a restart: the name they joined with.
        entry.name = _joined_name(st.session_state)
    entry.teacher = bool(st.session_state.get("teacher"))
    entry.was_teacher = entry.teacher or bool(st.session_state.get("kept_teacher_page"))
    return entry


def _joined_name(state) -> str:
    """The name a session (or a desk's kept state) joined the class project with; empty if it did not join."""
    return str(state.get("kept_student_name") or "").strip()[:30] if state.get("kept_joined") else ""


def set_name(name: str) -> None:
    """The name the teacher sees for this session."""
    entry = register(st.session_state.setdefault("runs", RunBook()))
    if entry is not None:
        entry.name = name.strip()[:30]


def live_sessions() -> dict[str, SessionEntry]:
    """The registered sessions still connected or lately left; the others are forgotten (and their files cleaned).

    After a restart, the desks of the server's last run whose page has not come back yet are listed too, with
    the runs they left on disk (their numbers and curves: enough for the teacher to show them to the class).
    """
    active = active_sessions()
    table = sessions()
    if active is not None:
        for gone in [sid for sid in table if sid not in active]:
            table.pop(gone, None)
        workspace().forget_gone(active)
        held = desks()
        for name in active - table.keys():
            desk = held.get(name)
            if desk is not None and _runs_file(name).exists():
                table.setdefault(name, SessionEntry(RunBook.load(_runs_file(name)), name=_joined_name(desk.state),
                                                    was_teacher=bool(desk.state.get("kept_teacher_page"))))
    return dict(table)


def student_name(sid: str) -> str:
    """What the teacher sees for a session (given its id, or its mark in the class project's file names)."""
    entry = sessions().get(sid) or next((e for s, e in sessions().items() if class_project.owner(s) == sid), None)
    if entry and entry.was_teacher:
        return _("{name} (teacher)").format(name=entry.name) if entry.name else _("The teacher")
    return entry.name if entry and entry.name else _("Student {code}").format(code=sid[:4])


# --- The class project --------------------------------------------------------------------

class ProjectBox:
    """The class's one project (or None), shared by every session."""

    def __init__(self):
        self.project: ClassProject | None = None


@st.cache_resource(show_spinner=False)
def project_box() -> ProjectBox:
    """The class's project box; after a restart, with the project the server's last run left on disk."""
    box = ProjectBox()
    box.project = ClassProject.reopen(_projects_root())
    return box


def _projects_root() -> Path:
    return workspace().top / "class-projects"


def project() -> ClassProject | None:
    return project_box().project if policy().on else None


def new_project(class_names: list[str]) -> ClassProject:
    """The teacher starts a class project (replacing any earlier one, whose photos are deleted)."""
    box = project_box()
    shutil.rmtree(_projects_root(), ignore_errors=True)
    box.project = ClassProject.create(_projects_root(), class_names)
    return box.project


def class_runs() -> list:
    """The teacher's runs on the class project, with their models: every student can try them."""
    current = project()
    if current is None:
        return []
    names = {name.format(code=current.code) for name in i18n.every_language(class_project.DATASET_NAME)}
    return [run for entry in list(sessions().values()) if entry.teacher
            for run in entry.runs.with_models() if run.dataset_name in names]


def release(uploads) -> None:
    """Let Streamlit forget uploaded files once they are on disk: it keeps every upload in memory otherwise,
    for as long as the session lasts (a class's phone photos would add up to gigabytes)."""
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
    ctx = get_script_run_ctx()
    if ctx is None or not isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        return
    for upload in uploads:
        ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=upload.file_id)


def https() -> bool:
    return bool(st.get_option("server.sslCertFile"))


def port() -> int:
    return int(st.get_option("server.port"))


def addresses() -> list[str]:
    return classroom.lan_addresses() or ["localhost"]


def join_box() -> None:
    """In the sidebar of every page in a classroom: how to join, and what the browser warning means."""
    if not policy().on:
        return
    url = classroom.join_url(addresses()[0], port(), https=https())
    with st.sidebar.expander(_("Join this class"), icon=":material/qr_code_2:"):
        st.image(classroom.qr_png(url, scale=5), width=180)
        st.markdown(_("Open **{url}** on your phone or laptop (the same Wi-Fi), or scan the code.").format(url=url))
        if https():
            st.caption(_("Your browser will warn that the connection is *not private*: the teacher's laptop made "
                         "its own certificate, as no authority signs one for a classroom. The connection is "
                         "still encrypted. Choose *Advanced → Proceed* once. Phones need this for the camera."))
