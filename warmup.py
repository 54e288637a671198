"""Warm start: load TensorFlow and the default model when the server starts, not when the first browser asks.

Importing TensorFlow, loading EfficientNet-Lite0 and classifying the sample
photo take about 3.5 seconds of a core. Begun as the server starts, on a
thread, they overlap with the browser opening the page; a teacher who opens
it a few seconds after launch finds the first prediction ready. From the
second launch on, the first page shows the sample's answer kept from the
last one and needs no TensorFlow at all, so the warm-up lets it go first.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

LOG = logging.getLogger("hubdemo.warmup")


FIRST_PAGE_SHOWN = threading.Event()  # Set by the classifier page once its first answer is on screen.
FIRST_PAGE_WAIT = 5.0  # Seconds the warm-up leaves the CPU to a first page that needs no TensorFlow.


def warm_up() -> None:
    """Fill the app's caches as the first page needs them; a failure only costs the first visit its speed.

    When the sample photo's answer is kept from an earlier launch (``hubdemo.first_answer``), the first
    page needs no TensorFlow: the warm-up then waits until that page is on screen (or a few seconds pass),
    because importing TensorFlow holds Python's lock for seconds and would slow the page by as much.
    """
    try:
        from hubdemo import first_answer, models
        handle = models.resolve_handle(models.DEFAULT_CLASSIFIER)
        if first_answer.recall(handle) is not None:
            FIRST_PAGE_SHOWN.wait(FIRST_PAGE_WAIT)
        from hubdemo.tf import tf  # noqa: F401  (the slow part, first)
        import cached
        from hubdemo import images
        cached.classify(handle, images.SAMPLE_NAME, images.sample_photo())
        from hubdemo import charts  # noqa: F401  (altair and pandas, for the page's charts)
        import room
        if room.policy().on:
            room.trainers().warm()  # The class's training workers load TensorFlow now, not at the first run.
    except Exception as err:  # The page loads the model again and shows any error to the user.
        from hubdemo.errors import HubDemoError
        if isinstance(err, HubDemoError):  # Already a sentence for people (a full disk, no model): no traceback.
            LOG.warning("warming up the default model failed: %s", err)
        else:
            LOG.exception("warming up the default model failed")


class _QuietOutsideAPage(logging.Filter):
    """Drops Streamlit's notes that code runs outside a page: "missing ScriptRunContext" from the warm-up
    thread, and "No runtime found" from the cached functions defined while the server imports the app (it
    checks their settings before its runtime exists; they use the runtime's caches once it does). Both are
    true by design, and alarming in the terminal a teacher starts a class from."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("No runtime found")
                    or (record.threadName == THREAD and "missing ScriptRunContext" in message))


THREAD = "hubdemo-warmup"
for _name in ("streamlit.runtime.scriptrunner_utils.script_run_context", "streamlit.runtime.caching.cache_data_api",
              "streamlit.runtime.caching.cache_resource_api"):
    logging.getLogger(_name).addFilter(_QuietOutsideAPage())


@asynccontextmanager
async def lifespan(app):
    """``st.App``'s start-up and shut-down hook: begin warming up once the server is up, and serve at once;
    when it stops, stop the class's training workers (and remove their files) before the process ends.

    Stopped by SIGTERM (``kill``, a service manager), the server shuts down and then ends at once by the
    signal, without Python's exit handlers: this hook is where the workers still get closed and TensorFlow's
    temp files removed (:mod:`hubdemo.scratch`).
    """
    threading.Thread(target=warm_up, name=THREAD, daemon=True).start()
    yield
    import room
    from hubdemo import scratch
    if room.policy().on:
        room.trainers().close()
    scratch.leave()
