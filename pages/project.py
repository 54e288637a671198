"""The class project, for students: join with the code, add photos of each class from the phone, watch the counts grow."""

import streamlit as st

import camera
import dataset_picker
import model_picker
import room
import widgets
from hubdemo import class_project
from hubdemo.errors import HubDemoError
from hubdemo.i18n import _

widgets.use_router()
st.title(_("Class project"))
st.markdown(_("The whole class builds one dataset together: add photos of each class with your phone's camera. "
              "The teacher then trains a model on everyone's photos, and you try it on your phone."))


def join_ui(project) -> bool:
    """The join code (from the QR code's link, or typed); once per session."""
    if st.session_state.get("kept_joined") == project.code:  # Kept with the desk: a restart keeps it too.
        return True
    code = class_project.typed_code(st.text_input(_("Join code (on the teacher's screen)"),
                                                  value=st.query_params.get("join", ""), max_chars=12, key="join_code"))
    name = st.text_input(_("Your name (the teacher sees it beside your photos)"), max_chars=30,
                         **widgets.remembered("student_name"))
    if code and code != project.code:
        st.error(_("'{code}' is not this class's code: check the teacher's screen.").format(code=code))
    if st.button(_("Join"), icon=":material/group_add:", type="primary", disabled=code != project.code):
        st.session_state["kept_joined"] = project.code
        room.set_name(name)
        st.rerun()
    return False


def add_ui(project) -> None:
    """One camera (phones: the back camera via the browser's picker) and an uploader, for the class picked."""
    if st.toggle(_("Record from the live camera"), key="project_live",  # First: the video's place never moves.
                 help=_("Live video from your camera: pick a class, press Record, and it takes a photo "
                        "five times a second while you move the object.")):
        record_ui(project)
        return
    if st.session_state.get("project_added"):
        st.success(st.session_state.pop("project_added"), icon=":material/check:")
    if st.session_state.get("project_refused"):
        widgets.show_error(st.session_state.pop("project_refused"))
    name = st.segmented_control(_("Add a photo of"), project.class_names, key="project_class", required=True,
                                default=project.class_names[0], format_func=widgets.plain)  # Names as typed.
    # required: a student tapping the class already chosen keeps it (and the camera), rather than unchoosing it.
    if not name:
        return
    batch = st.session_state.setdefault("project_batch", 0)  # A new key empties the camera and uploader.
    shot = st.camera_input(_("A photo of {name}").format(name=name), key=f"project_camera_{batch}")
    uploads = st.file_uploader(_("Or photos of {name} from your gallery").format(name=name), accept_multiple_files=True,
                               type=None, key=f"project_uploads_{batch}")
    added = [*([shot] if shot is not None else []), *(uploads or [])]
    if not added:
        return
    refused = add_photos(project, name, [(upload.file_id, upload.name or "camera.jpg", upload.getvalue())
                                         for upload in added])
    if refused:
        st.session_state["project_refused"] = refused
    else:
        st.session_state["project_added"] = _("Added {photos} to {name}. Take another!").format(
            photos=widgets.count(len(added), "photo"), name=name)
    # Either way Streamlit lets go of the bytes, and the camera and uploader start empty again.
    room.release(added)
    st.session_state["project_batch"] = batch + 1
    st.rerun()


def add_photos(project, name: str, photos: list[tuple[str, str, bytes]]) -> str | None:
    """Add ``(photo_id, filename, data)`` photos to the class as this student's: room for all of them, or none
    is added; returns why not, if refused."""
    try:
        room.workspace().check_total(sum(len(data) for _id, _filename, data in photos), widgets.these_photos(len(photos)))
        for photo_id, filename, data in photos:
            project.add_photo(name, photo_id, filename, data, room.session_id())
    except HubDemoError as err:
        return str(err)
    return None


def record_ui(project) -> None:
    """A few photos at a time from live video (a shared dataset: ten at most, so one student cannot swamp it)."""
    recorded = camera.recorder_ui(project.class_names, "project_rec", done=st.session_state.get("project_recorded"),
                                  counts=PROJECT_RECORD_COUNTS)
    if recorded is None:
        return
    name, photos = recorded
    refused = add_photos(project, name, [(photo_id, "live.jpg", data) for photo_id, data in photos])
    if refused:
        widgets.show_error(refused)
        return
    st.session_state["project_recorded"] = _("Added {photos} to {name}.").format(
        photos=widgets.count(len(photos), "photo"), name=name)
    st.rerun()


PROJECT_RECORD_COUNTS = (5, 10)


def counts_ui() -> None:
    """Everyone's counts, refreshed every two seconds; your own photos, which you can take back."""
    project = room.project()
    if project is None:
        return
    photos = dataset_picker.project_counts_ui(project)
    mine = [(path, name) for name, files in photos.items() for path in files
            if project.added_by(path) == class_project.owner(room.session_id())]
    st.caption(_("You added {count}.").format(count=widgets.count(len(mine), 'photo')))
    dataset_picker.removable_photos_ui(mine, project.remove, _("Take back"), ":material/undo:")


def try_ui() -> None:
    """Once the teacher has trained on the class's photos: try that model here, on the camera."""
    runs = room.class_runs()
    if not runs:
        st.info(_("When the teacher has trained on everyone's photos, the class model appears here."),
                icon=":material/hourglass:")
        return
    run = runs[-1]
    if st.button(_("Try the class model ({label}) on your camera").format(
            label=run.label), icon=":material/photo_camera:", type="primary"):
        st.session_state["kept_classifier_model"] = model_picker.class_option(run)
        st.switch_page("pages/classifier.py")


project = room.project()
if project is None:
    st.info(_("The teacher has not started a class project yet. It appears here when they do."), icon=":material/school:")
    st.stop()
if join_ui(project):
    st.success(_("You are in class project **{code}**: {class_names}.").format(
            code=project.code, class_names=widgets.name_list(project.class_names)))
    add_ui(project)
    st.fragment(counts_ui, run_every=2.0)()
    try_ui()
