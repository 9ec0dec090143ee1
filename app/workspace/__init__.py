"""A student's workspace and the class around it, kept on the server so nothing is lost.

:mod:`~app.workspace.store` keeps what each student made (items such as a custom kernel or the
network being built, training runs with their settings and curves, model files and checkpoints)
in an embedded SQLite database (WAL, safe with several processes) plus files, under
``CONVLAB_STATE_DIR``. :mod:`~app.workspace.classroom` keeps what the instructor sets for the whole
class in the same database, so every server process sees it. :mod:`~app.workspace.identity` gives
each browser an anonymous workspace id (a cookie, never part of a shared link).
With ``CONVLAB_DATABASE_URL`` both live on a PostgreSQL server instead (:mod:`~app.workspace.pg`), model
bytes included (:mod:`~app.workspace.blobs`), so app processes on several machines share them.
Nothing here imports torch at module level; :mod:`~app.workspace.store` is usable without Streamlit.
"""

from app.workspace.classroom import Banner, Classroom, ClassSettings, Poll, Presence, PushedLink
from app.workspace.store import RunRecord, StoreError, WorkspaceStore, WorkspaceSummary, default_state_dir

__all__ = [
    "Banner",
    "ClassSettings",
    "Classroom",
    "Poll",
    "Presence",
    "PushedLink",
    "RunRecord",
    "StoreError",
    "WorkspaceStore",
    "WorkspaceSummary",
    "default_state_dir",
]
