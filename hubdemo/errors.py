"""The one exception type that hubdemo raises for problems a user can fix."""


class HubDemoError(Exception):
    """A readable failure: what went wrong, the value received, and what to do.

    Pages show ``str(err)`` and the CLI prints it without a traceback, so the
    message must make sense on its own.
    """
