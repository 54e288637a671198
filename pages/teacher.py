"""The teacher's page (classroom mode, behind the passphrase): the join code, the class project, every run, the workspace."""

import hmac
import time

import streamlit as st

import dataset_picker
import model_picker
import room
import widgets
from hubdemo import charts, class_project, classroom, desks, live, models, runs
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _, sentences
from hubdemo.workspace import MB

REFRESH_SECONDS = 3.0  # Who is here, every student's runs (a projected run's curves move as it trains), the workspace.

widgets.use_router()
st.title(_("Teacher"))


def unlock_ui() -> bool:
    """The passphrase printed in the terminal when the class started; once per session."""
    if st.session_state.get("teacher"):
        return True
    st.markdown(_("This page is for the teacher: type the passphrase shown in the terminal where the class was started."))
    with st.form("unlock", border=False):
        typed = st.text_input(_("Passphrase"), type="password", key="passphrase")
        if st.form_submit_button(_("Open the teacher's page"), icon=":material/lock_open:"):
            if hmac.compare_digest(typed.strip().encode(), room.policy().passphrase.encode()):
                st.session_state["teacher"] = True
                st.session_state["kept_teacher_page"] = True  # For the name the desk's runs are shown under.
                room.register(model_picker.runs())
                st.rerun()
            time.sleep(1)  # Guessing it takes a second a try.
            st.error(_("That is not the passphrase."))
    return False


def join_ui() -> None:
    """Big enough to scan from the back of the room."""
    project = room.project()
    url = classroom.join_url(room.addresses()[0], room.port(), https=room.https())
    if project is not None:
        url = f"{url}project?join={project.code}"
    qr, text = st.columns([1, 2], vertical_alignment="center")
    qr.image(classroom.qr_png(url, scale=10))  # 330 px, or the column's width if narrower.
    text.markdown(_("### Join at\n## {url}").format(url=url))
    if project is not None:
        text.markdown(_("### Class project code: `{code}`").format(code=project.code))
    text.caption(_("Students on the same network scan the code or type the address. Their browser warns once that "
                   "the connection is not private: this laptop made its own certificate. Fingerprint: {fingerprint}").format(
        fingerprint=classroom.fingerprint(st.get_option("server.sslCertFile")) if room.https() else _("(no HTTPS)")))


def project_ui() -> None:
    """Create the class project; watch the counts grow; remove bad photos; train on it."""
    st.subheader(_("Class project"))
    project = room.project()
    with st.form("new_project", border=False):
        names = st.text_input(_("Classes, separated by commas"), placeholder=_("pen, cup, phone"), key="project_classes")
        label = (_("Start a new class project") if project is None
                 else _("Start again with these classes (deletes the photos)"))
        if st.form_submit_button(label, icon=":material/add_a_photo:"):
            try:
                room.new_project(class_project.split_class_names(names))
                st.rerun()
            except HubDemoError as err:
                widgets.show_error(err)
    if project is not None:
        st.fragment(project_photos_ui, run_every=2.0)()
        buttons = st.container(horizontal=True)
        if buttons.button(_("Train on the class's photos"), icon=":material/model_training:", type="primary"):
            st.session_state["kept_dataset_source"] = dataset_picker.PROJECT
            st.switch_page("pages/train.py")
        buttons.download_button(_("Keep the class's photos (.zip)"), project.zip, on_click="ignore",
                                file_name=f"class_project_{project.code}.zip", mime="application/zip",
                                key="project_zip", icon=":material/download:", help=_(
                                    "One folder per class, as the tutorial's datasets are: upload it on the Train "
                                    "page (Upload a .zip) in a later lesson. Clearing the workspace deletes the "
                                    "photos here."))


def project_photos_ui() -> None:
    """Counts and thumbnails, refreshed every two seconds; each photo with a Remove button."""
    project = room.project()
    if project is None:
        return
    photos = dataset_picker.project_counts_ui(project)
    for name, files in photos.items():
        with st.expander(f"{widgets.plain(name)}: {widgets.count(len(files), 'photo')}"):
            dataset_picker.removable_photos_ui([(p, room.student_name(project.added_by(p))) for p in files],
                                               project.remove, _("Remove"), ":material/delete:")


def runs_ui() -> None:
    """Every session's runs, and who is here; pick a run to show its curves and results to the class."""
    st.subheader(_("Every student's runs"))
    sessions = room.live_sessions()
    accuracy = _("Validation accuracy")
    columns = (_("Who"), _("Run"), _("Status"), accuracy)
    rows, by_key = [], {}
    for sid, entry in sessions.items():
        name = room.student_name(sid)
        for run in entry.runs.runs:
            by_key[f"{name} · {run.label}"] = run
            rows.append(dict(zip(columns, (name, run.label, runs.status_words(run.snapshot().status),
                                           run.evaluation.accuracy * 100 if run.evaluation else None))))
    here = sorted(room.connected_of(sessions), key=lambda sid: (not sessions[sid].teacher, room.student_name(sid)))
    connected = len(here)
    words = [_("{count} connected: {names}.").format(count=widgets.count(connected, 'session'),
                                                     names=widgets.name_list([room.student_name(sid) for sid in here]))
             if here else _("{count} connected.").format(count=widgets.count(0, 'session'))]
    if len(sessions) > connected:  # A closed tab's desk waits for a reload (desks.KEEP_SECONDS).
        words.append(_("{count} closed in the last {minutes} minutes: their runs stay here until then.").format(
            count=widgets.count(len(sessions) - connected, 'session'), minutes=desks.KEEP_SECONDS // 60))
    # Right under the heading, who is here below it: the table's toolbar, drawn over what is above it, covers no names.
    # Drawn empty too, its columns saying what will come: the browser then fetches the table's code with the page.
    # (Fetched first during one of this list's refreshes, it failed in Chromium, over the classroom's HTTPS, every
    # time we tried: "Unable to preload CSS", net::ERR_TOO_MANY_RETRIES.)
    st.dataframe(rows or {column: [] for column in columns}, hide_index=True, column_config={
        accuracy: st.column_config.ProgressColumn(format="%.1f%%", min_value=0.0, max_value=100.0)})
    if not rows:
        st.caption(sentences(_("No runs yet. Runs appear here as students train."), *words))
        return
    st.caption(sentences(*words))
    # Buttons, not a drop-down: this list refreshes every few seconds, and would close one.
    chosen = st.pills(_("Show one to the class"), list(by_key), format_func=widgets.plain, key="projected_run")
    if chosen:
        run = by_key[chosen]
        snap = run.snapshot()
        st.markdown(f"#### {widgets.plain(chosen)}")
        st.caption(widgets.plain(run.describe(models.short_name(run.feature_handle))))  # What produced it.
        if snap.batches:
            loss, accuracy = st.columns(2)
            loss.altair_chart(charts.training_curve(snap.batches, snap.epochs, "loss"))
            accuracy.altair_chart(charts.training_curve(snap.batches, snap.epochs, "accuracy"))
        if run.evaluation is not None:
            widgets.evaluation_ui(run.evaluation, key="projected", what=chosen)


def workspace_ui() -> None:
    st.subheader(_("Workspace and trainers"))
    space, pool = room.workspace(), room.trainers()
    used, total = space.used(), space.total_quota
    st.progress(min(1.0, used / total), _("Workspace: {used:,.0f} MB of {total:,.0f} MB "
                                           "({session_quota:,.0f} MB per student)").format(
                                               used=used / MB, total=total / MB,
                                               session_quota=space.session_quota / MB))
    st.caption(_("Training: {runs} at a time, in worker processes at low priority; "
                 "{queued} waiting.").format(runs=widgets.count(pool.slots, "run"), queued=pool.queued))
    st.caption(_("Live cameras on now: {cameras}, sharing {total:.0f} predictions a second. Each costs this "
                 "laptop about a tenth of a core for its video: a few groups at a time, not the whole "
                 "room.").format(cameras=live.SHARED.sharing(), total=live.SHARED.total))
    if st.button(_("Clear the workspace (every student's uploads, photos and exports, and the class project)"),
                 icon=":material/delete_sweep:", key="clear_workspace"):
        st.session_state["cleared"] = space.clear()
        room.project_box().project = None
        st.rerun()  # The whole page again, without the project it showed above.
    if "cleared" in st.session_state:
        st.success(_("Cleared {megabytes:,.1f} MB.").format(megabytes=st.session_state.pop('cleared') / MB))


if unlock_ui():
    join_ui()
    project_ui()
    # Both change while the teacher only watches (students join, train, start cameras): redrawn every few seconds.
    st.fragment(runs_ui, run_every=REFRESH_SECONDS)()
    st.fragment(workspace_ui, run_every=REFRESH_SECONDS)()
