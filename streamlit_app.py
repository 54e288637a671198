"""hubdemo: the router and frame of the app. Pages live in pages/, the work in hubdemo/.

``streamlit run streamlit_app.py`` reads this file twice. First it imports it
to find ``app``, the server, whose start-up loads TensorFlow and the default
model before any browser asks (see ``warmup``). Then every browser session
runs it as ``__main__``: the router and the frame around each page.
"""

import argparse
import sys

import hubdemo  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import streamlit as st


def app_args() -> argparse.Namespace:
    """Options after ``--``: ``streamlit run streamlit_app.py -- --data DIR``."""
    parser = argparse.ArgumentParser(prog="streamlit run streamlit_app.py --")
    parser.add_argument("--data", help="a dataset folder (one subfolder per class) or .zip to start with")
    return parser.parse_known_args(sys.argv[1:])[0]


def frame() -> None:
    """The router: the pages, the shared sidebar, then the chosen page."""
    st.session_state.setdefault("default_data", app_args().data)
    page = st.navigation([
        st.Page("pages/classifier.py", title="Classify photos", icon=":material/image_search:", default=True),
        st.Page("pages/grid.py", title="Dataset grid", icon=":material/grid_view:", url_path="grid"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
        st.Page("pages/inside.py", title="Look inside", icon=":material/visibility:", url_path="inside"),
    ])
    st.set_page_config(page_title=f"hubdemo · {page.title}", page_icon=":material/local_florist:", layout="wide")
    with st.sidebar:
        st.caption(
            "**hubdemo** turns TensorFlow's *Transfer learning with TensorFlow Hub* tutorial into "
            "something you can click: see what an ImageNet model thinks of your photos, then teach it "
            "new classes. Everything runs on this computer; no photo leaves it.")
    page.run()


if __name__ == "__main__":
    frame()
else:  # Imported by `streamlit run` to find the server: warm up while it starts.
    import warmup

    app = st.App(__file__, lifespan=warmup.lifespan)
