"""Session-state keys: the one list of what each session remembers.

Widget keys are prefixed per page (``kl_`` Kernel Lab, ``ar_`` Arithmetic, ``an_`` Architecture,
``tr_`` Training, ``in_`` Inside the model) so pages never collide. Keys for things a user made
and must not lose to one bad input (a custom kernel, a trained model) are named here.
"""

from __future__ import annotations

# --- Kernel Lab ---
KL_CUSTOM_KERNEL = "kl_custom_kernel"  # last valid custom kernel, np.ndarray (kh, kw)
KL_UPLOAD_ERROR = "kl_upload_error"
KL_SEEDED = "kl_seeded"  # widgets were preset from the URL once this session
KL_GRID_BASE = "kl_grid_base"  # the kernel the custom grid editor starts from
KL_GRID_VERSION = "kl_grid_version"  # bumped when the grid is rebuilt (size or starting preset changed)
KL_PASTE_ERROR = "kl_paste_error"  # message for a pasted kernel that could not be read
