"""hubdemo: the router and frame of the app. Pages live in pages/, the work in hubdemo/.

``streamlit run streamlit_app.py`` reads this file twice. First it imports it
to find ``app``, the server, whose start-up loads TensorFlow and the default
model before any browser asks (see ``warmup``). Then every browser session
runs it as ``__main__``: the router and the frame around each page.
"""

import os
import sys

import streamlit as st

import hubdemo  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import warmup  # Before the app's modules: it quiets Streamlit's notes about code run outside a page.
import room
from hubdemo import i18n
from hubdemo.i18n import _


def frame() -> None:
    """The router: the pages, the shared sidebar, then the chosen page."""
    import model_picker
    import widgets
    room.sit_down()  # First: a reloaded page takes up its work again, its language too.
    widgets.language_ui()  # Then everything below speaks it.
    data = room.args().data
    st.session_state.setdefault("default_data", data[0] if data else None)
    pages = [
        st.Page("pages/classifier.py", title=_("Classify photos"), icon=":material/image_search:", default=True),
        st.Page("pages/grid.py", title=_("Dataset grid"), icon=":material/grid_view:", url_path="grid"),
        st.Page("pages/train.py", title=_("Train"), icon=":material/model_training:", url_path="train"),
        st.Page("pages/inside.py", title=_("Look inside"), icon=":material/visibility:", url_path="inside"),
    ]
    if room.policy().on:
        pages += [st.Page("pages/project.py", title=_("Class project"), icon=":material/groups:", url_path="project"),
                  st.Page("pages/teacher.py", title=_("Teacher"), icon=":material/school:", url_path="teacher")]
        room.register(model_picker.runs())
    # The tab's icon before the navigation: an emoji is drawn in the browser, whereas a page's Material icon
    # would become the tab's icon from Google's font server, which an offline classroom cannot reach.
    st.set_page_config(page_icon="🌼", layout="wide")
    page = st.navigation(pages)
    st.set_page_config(page_title=f"hubdemo · {page.title}")
    with st.sidebar:
        st.caption(
            _("**hubdemo** turns TensorFlow's *Transfer learning with TensorFlow Hub* tutorial into "
              "something you can click: see what an ImageNet model thinks of your photos, then teach it "
              "new classes. Everything runs on this computer; no photo leaves it."))
    room.join_box()
    held = room.desks()
    room.keep_desk(held)
    try:
        page.run()
    finally:  # Also when the page stops or reruns early: what it made this run is kept for a reload.
        room.keep_desk(held)


def serve_classroom() -> None:
    """``-- --classroom``: serve the local network over HTTPS, then show the teacher how to join.

    Streamlit has read its address and certificate before it imports this
    file, so the first start runs ``streamlit`` again with them added (the
    same command line, plus flags); the second prints the addresses, a QR
    code and the teacher's passphrase in the terminal.
    """
    from hubdemo import classroom
    from hubdemo.errors import HubDemoError
    try:
        policy = room.policy()
    except HubDemoError as err:  # Bad options: say which, in the terminal, and stop.
        sys.exit(f"hubdemo: {err}")
    if not policy.on:
        return
    addresses = classroom.lan_addresses()
    if not room.https():
        # Streamlit has already printed its plain http address above: say that it is not the class's.
        print(_("  hubdemo classroom: starting again with HTTPS for the school network (not the address "
                "above)…"), flush=True)
        argv = list(sys.orig_argv)
        at = argv.index("run") + 1  # Flags go right after `run`, before the script and its options.
        _close_on_exec()
        os.execv(sys.executable, [sys.executable, *argv[1:at], *classroom.serve_flags(policy, addresses), *argv[at:]])
    urls = [classroom.join_url(a, room.port()) for a in addresses] or [classroom.join_url("localhost", room.port())]
    print("\n" + _("  hubdemo classroom. Students open {addresses}\n"
                   "  (same network; the browser warns once about the self-made certificate: Advanced, Proceed).\n"
                   "  Certificate fingerprint: {fingerprint}\n"
                   "  Teacher's page: {teacher}  passphrase: {passphrase}").format(
                           addresses=i18n.word_list(urls, style="or"), fingerprint=classroom.fingerprint(
                                   st.get_option("server.sslCertFile")),
                           teacher=f"{urls[0]}teacher", passphrase=policy.passphrase) + "\n", flush=True)
    print(classroom.qr_terminal(urls[0]), flush=True)


def _close_on_exec() -> None:
    """Streamlit's listening socket is inheritable: the started-again server must get the port, not it."""
    import stat
    fds = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    for fd in map(int, os.listdir(fds)):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.set_inheritable(fd, False)
        except OSError:
            pass


if __name__ == "__main__":
    frame()
else:  # Imported by `streamlit run` to find the server: warm up while it starts.
    from hubdemo import scratch

    serve_classroom()  # May start the server again (the same process id): take the temp folder after it.
    scratch.use_for_this_process()  # Before TensorFlow: its temp files go in the cache, not /tmp.
    app = st.App(__file__, lifespan=warmup.lifespan)
