"""Warm start: load TensorFlow and the default model when the server starts, not when the first browser asks.

Importing TensorFlow, loading EfficientNet-Lite0 and classifying the sample
photo take about 3.5 seconds of a core. Begun as the server starts, on a
thread, they overlap with the browser opening the page; a teacher who opens
it a few seconds after launch finds the first prediction ready.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

LOG = logging.getLogger("hubdemo.warmup")


def warm_up() -> None:
    """Fill the app's caches as the first page needs them; a failure only costs the first visit its speed."""
    try:
        from hubdemo.tf import tf  # noqa: F401  (the slow part, first)
        import cached
        from hubdemo import images, models
        handle = models.resolve_handle(models.DEFAULT_CLASSIFIER)
        cached.classify(handle, images.SAMPLE_NAME, images.sample_photo())
        from hubdemo import charts  # noqa: F401  (altair and pandas, for the page's charts)
        import room
        if room.policy().on:
            room.trainers().warm()  # The class's training workers load TensorFlow now, not at the first run.
    except Exception:  # The page loads the model again and shows any error to the user.
        LOG.exception("warming up the default model failed")


@asynccontextmanager
async def lifespan(app):
    """``st.App``'s start-up hook: begin warming up once the server is up, and serve at once."""
    threading.Thread(target=warm_up, name="hubdemo-warmup", daemon=True).start()
    yield
