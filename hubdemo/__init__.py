"""hubdemo: TensorFlow Hub transfer learning as a teaching dashboard (the library, no Streamlit)."""

import os

__version__ = "0.3.0"

# hub.KerasLayer is a Keras 2 layer: TensorFlow must pick tf_keras, and this has
# to happen before TensorFlow is first imported anywhere in the process.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
