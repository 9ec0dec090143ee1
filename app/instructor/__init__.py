"""The instructor's side of the classroom, and the classroom on every student's page.

:mod:`~app.instructor.access` (the key gate, in constant time and rate-limited),
:mod:`~app.instructor.console` (the class live, broadcasts, pushed links, the live poll, run
cancelling and the class settings, drawn by ``app_pages/instructor.py``),
:mod:`~app.instructor.in_class` (what every student's sidebar shows: the banner, the pushed link,
the open poll, the heartbeat), :mod:`~app.instructor.my_workspace` (the "Your workspace" panel),
:mod:`~app.instructor.server_load` (CPU, memory and slots, no Streamlit) and
:mod:`~app.instructor.announce` (the command-line banner ``scripts/serve_class.sh restart`` posts).

Nothing is imported here, so ``python -m app.instructor.announce`` starts without Streamlit or torch.
"""
