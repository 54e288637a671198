"""hubdemo: the router and frame of the app. Pages live in pages/, the work in hubdemo/."""

import argparse
import sys

import hubdemo  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import streamlit as st


def app_args() -> argparse.Namespace:
    """Options after ``--``: ``streamlit run streamlit_app.py -- --data DIR``."""
    parser = argparse.ArgumentParser(prog="streamlit run streamlit_app.py --")
    parser.add_argument("--data", help="a dataset folder (one subfolder per class) or .zip to start with")
    return parser.parse_known_args(sys.argv[1:])[0]


st.session_state.setdefault("default_data", app_args().data)

PAGES = [
    st.Page("pages/classifier.py", title="ImageNet classifier", icon=":material/image_search:", default=True),
    st.Page("pages/grid.py", title="Dataset grid", icon=":material/grid_view:", url_path="grid"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
]

page = st.navigation(PAGES)
st.set_page_config(page_title=f"hubdemo · {page.title}", page_icon=":material/local_florist:", layout="wide")

with st.sidebar:
    st.caption(
        "**hubdemo** turns TensorFlow's *Transfer learning with TensorFlow Hub* tutorial into "
        "something you can click: see what an ImageNet model thinks of your photos, then teach it "
        "new classes. Everything runs on this computer; no photo leaves it.")

page.run()
