"""hubdemo: the router and frame of the app. Pages live in pages/, the work in hubdemo/."""

import hubdemo  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import streamlit as st

PAGES = [
    st.Page("pages/classifier.py", title="ImageNet classifier", icon="🔎", default=True),
]

page = st.navigation(PAGES)
st.set_page_config(page_title=f"hubdemo · {page.title}", page_icon="🌼", layout="wide")

with st.sidebar:
    st.caption(
        "**hubdemo** turns TensorFlow's *Transfer learning with TensorFlow Hub* tutorial into "
        "something you can click: see what an ImageNet model thinks of your photos, then teach it "
        "new classes. Everything runs on this computer; no photo leaves it.")

page.run()
