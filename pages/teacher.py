"""The teacher's page (classroom mode, behind the passphrase): the join code, the class project, every run, the workspace."""

import hmac
import time

import streamlit as st

import model_picker
import room
import widgets
from hubdemo import charts, classroom
from hubdemo.errors import HubDemoError
from hubdemo.workspace import MB

widgets.use_router()
st.title("Teacher")


def unlock_ui() -> bool:
    """The passphrase printed in the terminal when the class started; once per session."""
    if st.session_state.get("teacher"):
        return True
    st.markdown("This page is for the teacher: type the passphrase shown in the terminal where the class was started.")
    with st.form("unlock", border=False):
        typed = st.text_input("Passphrase", type="password", key="passphrase")
        if st.form_submit_button("Open the teacher's page", icon=":material/lock_open:"):
            if hmac.compare_digest(typed.strip().encode(), room.policy().passphrase.encode()):
                st.session_state["teacher"] = True
                room.register(model_picker.runs())
                st.rerun()
            time.sleep(1)  # Guessing it takes a second a try.
            st.error("That is not the passphrase.")
    return False


def join_ui() -> None:
    """Big enough to scan from the back of the room."""
    project = room.project()
    url = classroom.join_url(room.addresses()[0], room.port(), https=room.https())
    if project is not None:
        url = f"{url}project?join={project.code}"
    qr, text = st.columns([1, 2], vertical_alignment="center")
    qr.image(classroom.qr_png(url, scale=10), width=320)
    text.markdown(f"### Join at\n## {url}")
    if project is not None:
        text.markdown(f"### Class project code: `{project.code}`")
    text.caption("Students on the same network scan the code or type the address. Their browser warns once that "
                 "the connection is not private: this laptop made its own certificate. Fingerprint: "
                 + (classroom.fingerprint(st.get_option("server.sslCertFile")) if room.https() else "(no HTTPS)"))


def project_ui() -> None:
    """Create the class project; watch the counts grow; remove bad photos; train on it."""
    st.subheader("Class project")
    project = room.project()
    with st.form("new_project", border=False):
        names = st.text_input("Classes, separated by commas", placeholder="pen, cup, phone", key="project_classes")
        label = "Start a new class project" if project is None else "Start again with these classes (deletes the photos)"
        if st.form_submit_button(label, icon=":material/add_a_photo:"):
            try:
                room.new_project([n for n in names.split(",") if n.strip()])
                st.rerun()
            except HubDemoError as err:
                widgets.show_error(err)
    if project is not None:
        st.fragment(project_photos_ui, run_every=2.0)()
        if st.button("Train on the class's photos", icon=":material/model_training:", type="primary"):
            st.session_state["kept_dataset_source"] = widgets.PROJECT
            st.switch_page("pages/train.py")


def project_photos_ui() -> None:
    """Counts and thumbnails, refreshed every two seconds; each photo with a Remove button."""
    project = room.project()
    if project is None:
        return
    photos = widgets.project_counts_ui(project)
    for name, files in photos.items():
        with st.expander(f"{name}: {widgets.count(len(files), 'photo')}"):
            widgets.removable_photos_ui(project, [(p, room.student_name(project.added_by(p))) for p in files],
                                        "Remove", ":material/delete:")


def runs_ui() -> None:
    """Every session's runs; pick one to show its curves and results to the class."""
    st.subheader("Every student's runs")
    sessions = room.live_sessions()
    rows, by_key = [], {}
    for sid, entry in sessions.items():
        for run in entry.runs.runs:
            key = f"{room.student_name(sid)} · {run.label}"
            by_key[key] = run
            snap = run.snapshot()
            rows.append({"Who": room.student_name(sid), "Run": run.label, "Status": snap.status,
                         "Validation accuracy": run.evaluation.accuracy * 100 if run.evaluation else None})
    st.caption(f"{widgets.count(len(sessions), 'session')} connected.")
    if not rows:
        st.info("No runs yet. Runs appear here as students train.")
        return
    st.dataframe(rows, hide_index=True, column_config={
        "Validation accuracy": st.column_config.ProgressColumn(format="%.1f%%", min_value=0.0, max_value=100.0)})
    # Buttons, not a drop-down: the class project's counts refresh every two seconds and would close one.
    chosen = st.pills("Show one to the class", list(by_key), key="projected_run")
    if chosen:
        run = by_key[chosen]
        snap = run.snapshot()
        st.markdown(f"#### {widgets.plain(chosen)}")
        if snap.batches:
            loss, accuracy = st.columns(2)
            loss.altair_chart(charts.training_curve(snap.batches, snap.epochs, "loss"))
            accuracy.altair_chart(charts.training_curve(snap.batches, snap.epochs, "accuracy"))
        if run.evaluation is not None:
            widgets.evaluation_ui(run.evaluation, key="projected", what=chosen)


def workspace_ui() -> None:
    st.subheader("Workspace and trainers")
    space, pool = room.workspace(), room.trainers()
    used, total = space.used(), space.total_quota
    st.progress(min(1.0, used / total), f"Workspace: {used / MB:,.0f} MB of {total / MB:,.0f} MB "
                                         f"({space.session_quota / MB:,.0f} MB per student)")
    st.caption(f"Training: {pool.slots} run(s) at a time, in worker processes at low priority; "
               f"{pool.queued} waiting.")
    if st.button("Clear the workspace (every student's uploads, photos and exports, and the class project)",
                 icon=":material/delete_sweep:", key="clear_workspace"):
        st.session_state["cleared"] = space.clear()
        room.project_box().project = None
        st.rerun()  # The whole page again, without the project it showed above.
    if "cleared" in st.session_state:
        st.success(f"Cleared {st.session_state.pop('cleared') / MB:,.1f} MB.")


if unlock_ui():
    join_ui()
    project_ui()
    runs_ui()
    workspace_ui()
