"""Post a banner to every open page from the command line (``scripts/serve_class.sh restart`` uses it).

    python -m app.instructor.announce --seconds 60
    python -m app.instructor.announce --seconds 60 "The server restarts in 60 seconds. Your work is saved."
    python -m app.instructor.announce --clear

The banner goes into the classroom of the workspace database under ``CONVLAB_STATE_DIR`` (the same
file the servers read), so every student's page shows it within a few seconds, whichever process
serves them. It stays up for the announced seconds plus :data:`AFTER_S`, so it is still there while
the server comes back. Needs neither Streamlit nor torch.
"""

from __future__ import annotations

import argparse
import sys

from app.workspace.classroom import Classroom
from app.workspace.db import StoreError
from app.workspace.store import default_state_dir

AFTER_S = 60.0


def restart_text(seconds: float) -> str:
    return f"The server restarts in {seconds:.0f} seconds. Your work is saved."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.instructor.announce", description=__doc__.splitlines()[0])
    parser.add_argument("text", nargs="?", help="what the banner says [the restart announcement]")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds until the restart [60]")
    parser.add_argument("--clear", action="store_true", help="take the banner down instead")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be more than 0")
    database = default_state_dir() / "convlab.sqlite3"
    try:
        room = Classroom(database)
        if args.clear:
            room.clear_banner()
            sys.stdout.write("The banner is down.\n")
            return 0
        text = args.text or restart_text(args.seconds)
        room.post_banner(text, seconds=args.seconds + AFTER_S)
    except (StoreError, ValueError) as err:
        sys.stderr.write(f"The banner was not posted: {err}\n")
        return 1
    sys.stdout.write(f"Posted to every open page ({database}): {text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
