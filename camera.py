"""The camera on the classifier page: live video classified continuously (WebRTC), or a single snapshot.

``streamlit-webrtc`` carries the browser's camera to the server as real video,
so frames are classified here by whichever model is chosen (ImageNet's or
yours) and come back with the label drawn on them. The per-frame work is
:mod:`hubdemo.live`; this module is only the wiring. Where live video cannot
start, a snapshot (``st.camera_input``) or an upload does the same job, and the
page says why.
"""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import urlparse

import streamlit as st

import cached
import room
import widgets
from hubdemo import charts, explain, images, live, models
from hubdemo.i18n import N_, _

UPLOAD, LIVE, SNAPSHOT = N_("Upload photos"), N_("Live camera"), N_("Camera snapshot")  # The classifier's sources.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
REFRESH_SECONDS = 0.25  # The readings beside the video update four times a second.
# What the camera sends. The server decodes and encodes every frame of every camera (bench/live_camera.py
# --cameras: about 0.14 of a core per 640×480 camera at 30 fps, 0.09 at 480×360 and 15 fps), so a classroom's
# phones send less; one camera on a laptop sends the usual.
VIDEO = {"width": {"ideal": 640}, "height": {"ideal": 480}}
CLASSROOM_VIDEO = {"width": {"ideal": 480}, "height": {"ideal": 360}, "frameRate": {"ideal": 15, "max": 15}}


def camera_blocked_reason(page_url: str | None) -> str | None:
    """Why the browser will refuse the camera on ``page_url`` (``st.context.url``), or None if it will ask for it."""
    url = urlparse(page_url or "")
    if not url.scheme or url.scheme == "https" or url.hostname in LOCAL_HOSTS:
        return None
    return _("Browsers allow the camera only on https:// pages or on localhost, and this page is "
             "{page}. Open the app on the computer that runs it ({local}), or upload photos instead: on a "
             "phone, the upload button offers the camera too.").format(
        page=f"{url.scheme}://{url.netloc}", local=f"http://localhost:{url.port or 8501}")


def import_webrtc():
    """``(av, streamlit_webrtc)``, imported so that TensorFlow cannot crash them.

    pylibsrtp (under aiortc) carries its own OpenSSL and calls it through
    exported names; once TensorFlow has loaded its BoringSSL globally, those
    calls land in TensorFlow's library and the import segfaults. Loading
    pylibsrtp with RTLD_DEEPBIND makes it use its own copy, in any order.
    """
    if "pylibsrtp" not in sys.modules and hasattr(os, "RTLD_DEEPBIND"):
        flags = sys.getdlopenflags()
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
        try:
            import pylibsrtp  # noqa: F401
        finally:
            sys.setdlopenflags(flags)
    import av
    import streamlit_webrtc
    return av, streamlit_webrtc


def webrtc_words() -> dict[str, str]:
    """Every word the live video component shows, in the page's language (it has its own English otherwise)."""
    return {"start": _("Start the camera"), "stop": _("Stop"), "select_device": _("Choose camera"),
            "select_camera": _("Choose camera"), "turn_camera_on": _("Turn the camera on"),
            "turn_camera_off": _("Turn the camera off"),
            "media_api_not_available": _("This browser cannot give the page a camera."),
            "device_ask_permission": _("Please allow this page to use your camera."),
            "device_not_available": _("No camera is available"), "device_access_denied": _("Camera access denied")}


def live_ui(classifier: models.ImageClassifier, label: str, key: str, look: bool = False) -> None:
    """Live video from the camera, classified by ``classifier``, with its readings updating beside it;
    with ``look``, the video also shows where the model looks (Grad-CAM, where it can read the model)."""
    reader = _live_classifier(classifier, key)
    shown = _video_ui(key, reader.annotate)
    if shown is None:
        return
    context, readings = shown
    with readings:  # After the video, not above it: a new element there would restart the camera.
        reader.look(_explainer(classifier) if look and explain.gradcam_ready(classifier) else None)
        if look and not explain.gradcam_ready(classifier):
            st.info(_("Live heatmaps use Grad-CAM, fast enough for video, which reads only models built on the "
                      "bundled networks with their backbone frozen. For this model, upload photos: occlusion "
                      "shows where it looks."), icon=":material/info:")
        playing = context.state.playing
        st.fragment(_readings_ui, run_every=REFRESH_SECONDS if playing else None)(reader, label, playing)


def _explainer(classifier: models.ImageClassifier) -> live.Explainer:
    """Grad-CAM of one video frame for one class, with the network it reads made here, not on the video's thread
    (the first time takes a few seconds)."""
    with st.spinner(_("Working out where it looks…")):
        return live.gradcam(classifier, cached.cam_network_for(classifier))


def _webrtc():
    """``(av, streamlit_webrtc)``, or None with the reason on the page: where live video cannot start here."""
    blocked = camera_blocked_reason(st.context.url)
    if blocked:
        st.warning(widgets.plain(blocked), icon=":material/no_photography:")
        return None
    try:
        return import_webrtc()
    except ImportError:
        st.warning(_("Live video needs the streamlit-webrtc package, which is not installed here "
                     "(`pip install -r requirements.txt`). Use **Camera snapshot** meanwhile."),
                   icon=":material/videocam_off:")
        return None


def _video_ui(key: str, on_rgb):
    """The camera's live video beside an empty column, each frame (RGB) passed through ``on_rgb`` on the server.

    Returns ``(context, column)``, or None after saying why live video cannot start here.
    """
    found = _webrtc()
    if found is None:
        return None
    av, webrtc = found

    def on_frame(frame):  # Runs on WebRTC's frame thread: no st.* here.
        return av.VideoFrame.from_ndarray(on_rgb(frame.to_ndarray(format="rgb24")), format="rgb24")

    video, beside = st.columns([3, 2])
    with video:
        context = _streamer(webrtc, key, on_frame)
    return None if context is None else (context, beside)


def _streamer(webrtc, key: str, on_frame):
    """streamlit-webrtc's component, or None after a warning where it cannot run."""
    try:
        context = webrtc.webrtc_streamer(
            key=f"{key}_webrtc", mode=webrtc.WebRtcMode.SENDRECV, video_frame_callback=on_frame,
            # Host candidates only: on this computer (or a school network) no outside server is
            # needed, and none is contacted.
            rtc_configuration={"iceServers": []},
            media_stream_constraints={"video": CLASSROOM_VIDEO if room.policy().on else VIDEO, "audio": False},
            async_processing=True,
            translations=webrtc_words())
    except webrtc.webrtc.SignallingTimeoutError:  # The server answers a camera within 10 s, or gives up on it.
        st.warning(_("The camera did not connect: this computer was too busy to answer it in time (a training "
                     "run, other cameras). Press **Stop**, then **Start the camera** again."),
                   icon=":material/hourglass_top:")
        return None
    except Exception as err:  # A third-party component on a server it does not support.
        st.warning(_("Live video cannot start on this server ({error}). Take snapshots "
                     "with **Camera snapshot** instead.").format(
                             error=err.__class__.__name__), icon=":material/videocam_off:")
        return None
    st.caption(_("If the video stays dark after you allow the camera, your browser or network blocks "
                 "live video (WebRTC): use **Camera snapshot** instead."))
    return context


RECORD_COUNTS = (10, 20, 50)
RECORD_INTERVAL = 0.2  # Seconds between two photos: time to turn the object a little.


def recorder_ui(class_names: list[str], key: str, done: str | None = None,
                counts: tuple[int, ...] = RECORD_COUNTS) -> tuple[str, list[tuple[str, bytes]]] | None:
    """Live video that records photos of a class: pick the class, press Record, move the object.

    Returns the class and its new photos, ``(photo_id, JPEG bytes)``, when a recording has just
    finished (the ids, ``live-<time>-<number>``, keep a recording's photos together); ``done`` says
    what the last one added. The page keeps the same elements before the video on every run:
    moving it would restart the camera.
    """
    tap = st.session_state.get(f"{key}_tap")
    if tap is None:
        tap = st.session_state[f"{key}_tap"] = live.FrameTap()
    shown = _video_ui(key, tap.put)
    if shown is None:
        return None
    context, controls = shown
    with controls:
        name = st.selectbox(_("Record photos of"), class_names, key=f"{key}_class")
        default = counts[len(counts) // 2]
        count = st.segmented_control(_("How many"), counts, default=default, key=f"{key}_count", required=True)
        playing = context.state.playing
        pressed = st.button(_("Record {count} photos").format(count=count), icon=":material/radio_button_checked:",
                            type="primary", disabled=not playing or name is None, key=f"{key}_record")
        st.caption(_("Five photos a second. Turn the object, move it nearer and further, change the "
                     "background while it records: many different views teach the model more than many "
                     "copies of one.") if playing else
                   _("Press **Start the camera** first; the first time, the browser asks whether this page "
                     "may use the camera."))
        if done and not pressed:
            st.success(done, icon=":material/check:")
        if not pressed:
            return None
        words = _("Recording photos of {name}…").format(name=widgets.plain(name))
        bar = st.progress(0.0, words)
        frames = tap.record(count, RECORD_INTERVAL, on_photo=lambda n: bar.progress(n / count, words))
        bar.empty()
        if not frames:
            st.warning(_("No picture came from the camera. Is the video showing? Press **Start the camera** "
                         "again, or add photos with the upload button."), icon=":material/videocam_off:")
            return None
        stamp = time.time_ns()
        return name, [(f"live-{stamp}-{number:03d}", images.to_jpeg(frame)) for number, frame in enumerate(frames)]


def _live_classifier(classifier: models.ImageClassifier, key: str) -> live.LiveClassifier:
    """One per session and model: choosing another model starts a fresh one."""
    reader = st.session_state.get(f"{key}_live")
    if reader is None or reader.classifier is not classifier:
        reader = st.session_state[f"{key}_live"] = live.LiveClassifier(classifier, budget=live.SHARED)
    return reader


def _readings_ui(reader: live.LiveClassifier, label: str, playing: bool) -> None:
    reading = reader.latest()
    if not playing:
        st.info(_("Press **Start the camera** and hold something up to it. The first time, the browser "
                  "asks whether this page may use the camera."), icon=":material/videocam:")
        return
    if reading is None:
        st.caption(_("Waiting for the first frame…"))
        return
    top = reading.predictions[0]
    st.markdown(f"#### {top.probability:.0%} · {widgets.plain(top.label)}")
    st.altair_chart(charts.top_k_bars(reading.predictions))
    if models.unsure(top.probability, len(reader.classifier.labels)):  # Hold up none of its classes, and see.
        st.caption(_("Not sure: {share:.0%} for its best guess.").format(share=top.probability))
    st.caption(_("**{label}** · {rate:.1f} predictions a second · each label ready "
                 "{latency:.0f} ms after its frame arrived · prediction {number:,}").format(
                     label=widgets.plain(label), rate=reader.rate(), latency=reading.latency * 1000,
                     number=reading.number))
    if (sharing := reader.budget.sharing()) > 1:
        st.caption(_("{count} live cameras share this server's predictions now, so each gets fewer: everyone's "
                     "uploads and training keep their share of the computer.").format(count=sharing))
    if reader.heat() is not None:
        st.caption(_("Over the video, where it looks for its answer (Grad-CAM, {rate:.1f} heatmaps a second): red "
                     "where it finds the evidence, blue where it does not look. Move the object and watch the red "
                     "follow it.").format(rate=reader.heat_rate()))


def snapshot_ui(key: str) -> tuple[str, bytes] | None:
    """One photo from the camera, for browsers or networks where live video cannot start."""
    blocked = camera_blocked_reason(st.context.url)
    if blocked:
        st.warning(widgets.plain(blocked), icon=":material/no_photography:")
        return None
    shot = st.camera_input(_("Take a photo"), key=f"{key}_snapshot")
    return (_("camera photo"), shot.getvalue()) if shot is not None else None
