"""ImageNet classifier: what does a model trained on ImageNet see in your photos?"""

import streamlit as st

import cached
import widgets
from hubdemo import charts, images, models

widgets.use_router()
st.title("What does an ImageNet model see?")
st.markdown(
    "Drop in photos and a neural network trained on **ImageNet** (1.2 million photos of 1,000 kinds "
    "of things) says what it thinks is in each one, with how sure it is. This is step 1 of the "
    "transfer-learning tutorial: a ready-made model from TensorFlow Hub, used as it is.")


def inputs_ui() -> list[tuple[str, bytes]]:
    """The photos to classify: uploads and a camera shot, or the sample when there are none."""
    uploads = st.file_uploader("Drop photos here", accept_multiple_files=True, key="uploads",
                               help="JPEG, PNG, HEIC (iPhone), WebP, GIF, BMP, TIFF… as many as you like.")
    files = [(f.name, f.getvalue()) for f in uploads or []]
    if st.toggle("Take a photo with the camera", key="use_camera"):
        shot = st.camera_input("Camera", key="camera")
        if shot is not None:
            files.insert(0, ("camera photo", shot.getvalue()))
    if not files:
        st.caption(f"No photo yet, so here is the tutorial's sample: {images.SAMPLE_CREDIT}")
        files = [(images.SAMPLE_NAME, images.sample_photo())]
    return files


def result_ui(result: models.ImageResult, data: bytes) -> None:
    """One photo beside its top-5 table and bar chart, or its error message."""
    with st.container(border=True):
        if result.error:
            st.error(result.error, icon=":material/broken_image:")
            return
        picture, numbers = st.columns([1, 2])
        picture.image(cached.display_image(data), caption=result.name)
        top = result.predictions[0]
        numbers.markdown(f"### {top.label} · {top.probability:.0%}")
        table, chart = numbers.columns([1, 1])
        table.dataframe(
            [{"Class": p.label, "Probability": p.probability} for p in result.predictions],
            hide_index=True,
            column_config={"Probability": st.column_config.ProgressColumn(
                format="percent", min_value=0.0, max_value=1.0)})
        chart.altair_chart(charts.top_k_bars(result.predictions))
        numbers.caption(f"The model took {result.seconds * 1000:.0f} ms for this photo.")


handle = widgets.model_picker_ui("classification", key="classifier")
if not handle:
    st.info("Type a model handle in the sidebar, or pick a model from the list.")
    st.stop()
classifier = cached.classifier_ui(handle)
if classifier is None:
    st.stop()

for name, data in inputs_ui():
    result_ui(cached.classify(handle, name, data), data)

with st.expander("How does this work, and how would I write it in Keras?"):
    st.markdown(
        f"""
The model is a **convolutional neural network**. Each photo is resized to
{classifier.input_size}×{classifier.input_size} pixels with values between 0 and 1, and the network
returns one score (a *logit*) for each of its {len(classifier.labels)} classes. The *softmax*
turns the scores into probabilities that add up to 100%. ImageNet's classes are everyday objects,
animals and plants ("daisy", "golden retriever", "military uniform"), so a photo of something not
among them gets the closest guess it knows.

The same thing in a few lines of Python, as in the tutorial:
""")
    st.code(
        f"""import numpy as np, tensorflow as tf, tensorflow_hub as hub, tf_keras
from PIL import Image

classifier = tf_keras.Sequential([
    hub.KerasLayer("{models.hub_handle(handle)}", input_shape=({classifier.input_size}, {classifier.input_size}, 3))
])
image = Image.open("photo.jpg").convert("RGB").resize(({classifier.input_size}, {classifier.input_size}))
batch = np.asarray(image, dtype="float32")[np.newaxis] / 255.0
probabilities = tf.nn.softmax(classifier.predict(batch))[0]
print(np.argsort(probabilities)[::-1][:5])  # the five most likely class numbers""",
        language="python")
