"""Session-state keys: the one list of what each session remembers.

Widget keys are prefixed per page (``kl_`` Kernel Lab, ``ar_`` Arithmetic, ``an_`` Architecture,
``tr_`` Training, ``in_`` Inside the model) so pages never collide. Keys for things a user made
and must not lose to one bad input (a custom kernel, a trained model) are named here.
"""

from __future__ import annotations

# --- Kernel Lab ---
# The settings widgets, one per KernelLabConfig field (seeded from the link, read back by code).
KL_SAMPLE = "kl_sample"
KL_PRESET = "kl_preset"
KL_COLOR = "kl_color"
KL_STRIDE = "kl_stride"
KL_PADDING = "kl_padding"
KL_CUSTOM_PADDING = "kl_custom_padding"
KL_PADDING_MODE = "kl_padding_mode"
KL_DILATION = "kl_dilation"
KL_DISPLAY = "kl_display"
KL_SETTINGS: dict[str, str] = {  # KernelLabConfig field -> its widget's key
    "sample": KL_SAMPLE,
    "preset": KL_PRESET,
    "color": KL_COLOR,
    "stride": KL_STRIDE,
    "padding": KL_PADDING,
    "custom_padding": KL_CUSTOM_PADDING,
    "padding_mode": KL_PADDING_MODE,
    "dilation": KL_DILATION,
    "display": KL_DISPLAY,
}
# Other widgets whose values code reads or sets.
KL_START_FROM = "kl_start_from"  # custom kernel: the preset the grid starts from
KL_ROWS = "kl_rows"  # custom kernel: rows of the grid
KL_COLS = "kl_cols"  # custom kernel: columns of the grid
KL_PASTE = "kl_paste"  # custom kernel: the pasted text
KL_ROW = "kl_row"  # inspected output pixel: row
KL_COL = "kl_col"  # inspected output pixel: column
KL_CHANNEL = "kl_channel"  # inspected channel (R, G or B) of an RGB photo
KL_CLICK = "kl_click"  # the last click on the input photo ({x, y, width, height, unix_time})
KL_PHOTO_PICKER = "kl_photo_picker"  # the clickable photo component (its "click" events go to KL_CLICK)
KL_SOURCE = "kl_source"  # the photo's source (radio: sample, and upload / camera where the instructor allows)
# Keyed containers (no state): the page's style sizes the pictures in them (.st-key-<key>).
KL_PHOTO_BOX = "kl_photo_box"  # the clickable input photo
KL_MAP_BOX = "kl_map_box"  # the feature map
# State no widget holds.
KL_CUSTOM_KERNEL = "kl_custom_kernel"  # last valid custom kernel, np.ndarray (kh, kw)
KL_SEEDED = "kl_seeded"  # widgets were preset from the URL once this session
KL_LAST_CONFIG = "kl_last_config"  # the page's last KernelLabConfig, to restore after visiting other pages
KL_GRID_BASE = "kl_grid_base"  # the kernel the custom grid editor starts from
KL_GRID_VERSION = "kl_grid_version"  # bumped when the grid is rebuilt (size or starting preset changed)
KL_LAST_CLICK = "kl_last_click"  # time stamp of the last click on the input photo already followed
KL_PASTE_ERROR = "kl_paste_error"  # message for a pasted kernel that could not be read
KL_KERNEL_KEPT = "kl_kernel_kept"  # text of the custom kernel the workspace holds (or the link gave): saved when it differs
KL_KERNEL_RESTORED = "kl_kernel_restored"  # the editor holds the learner's saved kernel, untouched this session
KL_LINK_ERRORS = "kl_link_errors"  # sentences for a link's kernel or pixel that could not be read (shown once)

# --- Architecture ---
AN_MODEL_CONFIG = "an_model_config"  # last VALID cnn_core.models.ModelConfig built on the page (Training uses it)
AN_LAYERS = "an_layers"  # the layer stack being edited: list of (uid, LayerSpec); may be invalid
AN_NEXT_UID = "an_next_uid"  # counter giving each edited layer a stable widget-key id
AN_LINK_ERROR = "an_link_error"  # message for a shared link that could not be read
AN_INPUT_SHAPE = "an_input_shape"  # (C, H, W) being edited; restores the input widgets after a visit elsewhere
AN_PRESET = "an_preset"  # the preset selector (widget), read by the Load button
AN_PRESET_KEPT = "an_preset_kept"  # the preset picked in the selector, kept across page visits
AN_IN_C, AN_IN_H, AN_IN_W = "an_in_c", "an_in_h", "an_in_w"  # input-shape widgets, set when a network is loaded
AN_ADD_TYPE = "an_add_type"  # the New layer selector, read by Add layer
AN_ADD_AFTER = "an_add_after_{n}"  # Insert after layer, for a stack of n layers (a fresh widget per length)
AN_EDITOR = "an_editor"  # the layer editor (a component): its state "edit" is the last edit the browser reported
AN_NAME = "an_name"  # the network's name as the learner typed it ("" = the preset's name, or "Custom network")
AN_NAME_KEPT = "an_name_kept"  # that name, kept across page visits (restores the widget)
AN_KEPT = "an_kept"  # cnn_core.models.to_dict of the network the workspace holds (or the page opened with)

# --- Arithmetic ---
AR_CFG = "ar_cfg"  # the page's ArithmeticConfig: the source of truth the widgets are seeded from
AR_SEEDED = "ar_seeded"  # the config was read from the URL once this session
AR_PLAY = "ar_play"  # play/pause toggle
AR_SPEED = "ar_speed"  # seconds per step while playing
AR_STEP_SLIDER = "ar_step_slider"
AR_STOP_PLAY = "ar_stop_play"  # playing reached the last step: the next full run switches Play off
AR_LAST_TICK = "ar_last_tick"  # time.time() of the last step taken while playing
AR_CHECKED = "ar_checked"  # quiz: answers have been checked
AR_REVEAL = "ar_reveal"  # quiz: working revealed
AR_JUST_CHECKED = "ar_just_checked"  # quiz: Check was pressed; this run records the marks in the progress
AR_PROGRESS = "ar_progress"  # quiz progress: exercise key -> {right, total, mode, checked}, read once from the workspace
AR_SETTINGS_PREFIX = "ar_w_"  # the settings widgets; dropped (and re-seeded from AR_CFG) when a config loads
AR_ANSWER_PREFIX = "ar_q_"  # the quiz answer boxes: ar_q_{map}_{row}_{col}, ar_q_h and ar_q_w
# --- Arithmetic: the browser stepper (issue #15) ---
AR_TABLES_OPEN = "ar_tables_open"  # the expander of the grids as tables is open (its tables are built only then)
AR_STEPPER = "ar_stepper"  # the browser stepper component: its state {"step": [k, n]}, step k reported (n-th report)
AR_STEPPER_RUNS = "ar_stepper_runs"  # how many times this session's server drew the stepper (the browser tests read it)

# --- Training / Inside the model ---
# The Training page's widgets, whose keys tests, benches and browser sessions set and read.
TR_SOURCE = "tr_source"  # the dataset (select box over app.training.SOURCES)
TR_ZIP = "tr_zip"  # the learner's zip of class folders (file uploader)
TR_MODEL = "tr_model"  # the network (select box: presets, and the Architecture page's network)
TR_OPT = "tr_opt"  # TrainConfig.optimizer
TR_LR = "tr_lr"  # TrainConfig.lr
TR_BATCH = "tr_batch"  # TrainConfig.batch_size
TR_EPOCHS = "tr_epochs"  # TrainConfig.epochs
TR_SCHEDULE = "tr_schedule"  # TrainConfig.schedule
TR_WD = "tr_wd"  # TrainConfig.weight_decay
TR_SEED = "tr_seed"  # TrainConfig.seed
TR_DEVICE = "tr_device"  # TrainConfig.device
TR_FLIP = "tr_flip"  # TrainConfig.augment_flip
TR_SHIFT = "tr_shift"  # TrainConfig.augment_shift
TR_ROTATE = "tr_rotate"  # TrainConfig.augment_rotate
TR_START = "tr_start"  # Start training (button)
TR_STOP = "tr_stop"  # Stop (button)
TR_LOAD = "tr_load"  # a saved .pt model (file uploader)
TR_LOAD_GO = "tr_load_go"  # Load it (button)
# State no widget holds.
TR_BUNDLE = "tr_bundle"  # app.trained.TrainedBundle: this session's model, data and history
TR_JOB = "tr_job"  # app.jobs.Job of the current or last run
TR_OWN_DATA = "tr_own_data"  # cnn_core.data.ImageSet read from the learner's zip (kept per session)
TR_SESSION_ID = "tr_session_id"  # uuid4 hex: this session's owner id in the training-job registry
TR_WAS_ACTIVE = "tr_was_active"  # the live panel saw a run in progress (to redraw once when it ends)
TR_NOTE = "tr_note"  # a sentence about the workspace (it could not be opened or read) for the Training page
TR_RESTORED = "tr_restored"  # this session looked for its workspace's running job and latest model once
TR_SEEDED = "tr_seeded"  # the Training widgets were preset from the link once this session
TR_LINK_NET = "tr_link_net"  # cnn_core.models.ModelConfig of a network given in a Training link
TR_LINK_ERROR = "tr_link_error"  # sentences for the parts of a Training link that could not be read
TR_LAST_QUERY = "tr_last_query"  # the page's last link parameters, to restore the widgets after visiting other pages
# The "Your runs" panel's widgets.
TR_RUN_PICK = "tr_run_pick"  # the earlier run picked (select box over its run ids)
TR_RUN_LOAD = "tr_run_load"  # Load this run (button)
TR_RUN_DELETE = "tr_run_delete"  # Delete this run (button)
TR_RESUME = "tr_resume"  # Resume from step N (button) for an interrupted run

# --- Inside the model ---
IN_CACHE = "in_cache"  # app.inside.View: the model copy and test-set predictions being looked at, with their version
IN_REFRESH = "in_refresh"  # bumped by "Take a fresh copy" while the model is still training
IN_DEMO_RUN = "in_demo_run"  # app.inside.demo.DemoRun: the quick demo's job and bundle while it trains (or failed)
IN_DEMO_NOTE = "in_demo_note"  # message left by the quick demo training (shown once on the next run)
IN_WS_NOTE = "in_ws_note"  # (ok, sentence) on the model found in the workspace, or why none could be opened
IN_LINK = "in_link"  # {"tab": ..., "image": ...} last put in the address bar (restores the view on coming back)
IN_LINK_NOTE = "in_link_note"  # a sentence on a link part that could not be followed (shown once)
# Widget keys the code also sets: the page moves them (Random, a clicked cell, a default layer, a link).
IN_TAB = "in_tab"  # the open section (st.tabs over app.inside.TABS; a link's tab= sets it)
IN_SOURCE = "in_source"  # Test image / Upload / Draw (radio; a link's image= sets it; no Upload when uploads are off)
IN_TEST_INDEX = "in_test_index"  # the test image looked at (number input; Random sets it, clamped to the test set)
IN_SNAP = "in_snap"  # the snapshot shown in "Over time" (select slider; starts on the latest)
IN_CM_CHART = "in_cm_fig"  # the confusion matrix element, whose state "cell" names the clicked cell
IN_CM_TRUE = "in_cm_true"  # true class of the confusion cell shown (select box; starts on the commonest confusion)
IN_CM_PRED = "in_cm_pred"  # predicted class of that cell (select box)
IN_GC_LAYER = "in_gc_layer"  # the Grad-CAM layer (select box; starts on the last convolution's activation)

# --- Instructor ---
# The console (app_pages/instructor.py, app/instructor/): widget keys are prefixed ic_.
IC_UNLOCKED = "ic_unlocked"  # this session gave the right instructor key (kept for the session)
IC_KEY_FORM = "ic_key_form"  # the key form (clears itself, so the key is not kept)
IC_KEY = "ic_key"  # the password box
IC_BANNER_FORM = "ic_banner_form"
IC_BANNER_TEXT = "ic_banner_text"  # the banner's text
IC_BANNER_MINUTES = "ic_banner_minutes"  # how long it is shown
IC_BANNER_CLEAR = "ic_banner_clear"  # Take the banner down (button)
IC_RESTART_SECONDS = "ic_restart_seconds"  # seconds until the restart the console announces
IC_RESTART = "ic_restart"  # Announce a restart (button)
IC_LINK_FORM = "ic_link_form"
IC_LINK_PAGE = "ic_link_page"  # the page to show the class (select box)
IC_LINK_URL = "ic_link_url"  # or a typed or pasted address, e.g. /kernel_lab?preset=Sobel+x
IC_LINK_LABEL = "ic_link_label"  # what the students read beside the Open button
IC_LINK_CLEAR = "ic_link_clear"  # Take the link down (button)
IC_POLL_FORM = "ic_poll_form"
IC_POLL_QUESTION = "ic_poll_question"
IC_POLL_KIND = "ic_poll_kind"  # "A number" or "Multiple choice"
IC_POLL_CHOICES = "ic_poll_choices"  # one choice a line
IC_POLL_ANSWER = "ic_poll_answer"  # the right answer (optional)
IC_POLL_REVEAL = "ic_poll_reveal"  # Reveal the answer (button)
IC_POLL_CLOSE = "ic_poll_close"  # Close the poll (button)
IC_CANCEL = "ic_cancel_{job}"  # Cancel, one button per run (job id in this process)
IC_SETTINGS_FORM = "ic_settings_form"
IC_SET = "ic_set_{field}"  # the class settings form, one widget per ClassSettings field
IC_NOTE = "ic_note"  # a sentence left by an action, shown once on the next run
# Every student's page (app/layout.py sidebar, app/instructor/in_class.py, my_workspace.py): prefixed cl_.
CL_SEEN = "cl_seen"  # the banner, link and poll already announced with a toast (their time stamps / id)
CL_SETTINGS_DRAWN = "cl_settings_drawn"  # the ClassSettings this page was drawn with (a change reruns it at once)
CL_BANNER_DRAWN = "cl_banner_drawn"  # what the page itself shows over its title (in_class.page_key), or None
CL_PAGE_BANNER = "cl_page_banner"  # the keyed box of that copy: banner, link, poll (hidden while the sidebar is open)
NAV_PAGES = "nav_pages"  # (which pages are visible, the st.Page objects): made again only when that changes
CL_POLL_FORM = "cl_poll_form_{place}_{poll}"  # place: "sidebar" or "page" (the copy over the title)
CL_ANSWER = "cl_answer_{place}_{poll}"  # the student's answer box or choice for one poll, in that place
CL_NICKNAME = "cl_nickname"  # optional nickname shown to the instructor (kept in the workspace)
CL_FORGET = "cl_forget"  # Forget me (button)
CL_FORGET_SURE = "cl_forget_sure"  # Forget me was clicked once: ask for the confirmation
CL_FORGET_YES = "cl_forget_yes"  # Yes, delete everything (button)
CL_FORGET_NO = "cl_forget_no"  # Keep it (button)
CL_NOTE = "cl_note"  # a sentence left for the next run (e.g. "Your workspace was deleted.")
CL_WATCH = "cl_watch"  # the classroom box's watch component (its "changed" trigger reruns the box)
CL_WATCH_TOKEN = "cl_watch_token"  # this tab's random name at the watch address (app/server/class_watch.py)

# --- Lessons (app_pages/lessons.py, app/lessons/) ---
LS_LESSON = "ls_lesson"  # the lesson being walked through (select box of lesson ids)
LS_STEP = "ls_step"  # its step, 0-based (the step picker)
LS_LINK = "ls_link"  # the {lesson, step} the page last followed or published (a new link is followed)
LS_PROGRESS = "ls_progress"  # step key -> its kept progress (read once from the workspace)
LS_FORM = "ls_form_{step}"  # the prediction form of one step (key "<lesson>/<n>")
LS_PREDICT = "ls_predict_{step}"  # the prediction box or choice of one step
LS_SHOWN = "ls_shown"  # step key -> the verdict of its latest check, shown until the step changes
LS_NEXT = "ls_next"  # Next step (button)
LS_PROBLEM = "ls_problem"  # the sentence about a prediction that could not be read, shown once
# The instructor console's lesson controls (app/instructor/lesson_controls.py).
IC_LS_LESSON = "ic_ls_lesson"
IC_LS_STEP = "ic_ls_step"
IC_LS_START = "ic_ls_start"  # Start the class on this step (button)
IC_LS_POLL = "ic_ls_poll"  # Poll the class on this step's prediction (button)

# --- Experiments (app_pages/experiments.py, app/experiments/) ---
EX_RUN = "ex_run"  # app.experiments.runner.ExperimentRun: this session's experiment (running or finished)
EX_WAS_ACTIVE = "ex_was_active"  # the experiment was running at the fragment's last draw (its end redraws the page)
EX_PICK = "ex_pick"  # the ready-made experiment shown (select box of experiment keys)
EX_LINK = "ex_link"  # the ?experiment=<id> last followed or published (a new one picks that experiment)
EX_START = "ex_start"  # Run this experiment (button)
EX_STOP = "ex_stop"  # Stop the experiment (button)
EX_NOTE = "ex_note"  # a sentence left for the next run (the experiment could not start)
EX_COMPARE = "ex_compare"  # the kept runs overlaid (multiselect of run ids)
EX_METRIC = "ex_metric"  # which curve the overlay draws (radio)
EX_BN_BATCHES = "ex_bn_batches"  # training batches the batch-norm layer has seen (slider)
EX_BN_SIZE = "ex_bn_size"  # images per batch in the batch-norm explainer (select slider)
EX_DROP_P = "ex_drop_p"  # the dropout rate p (slider)
EX_DROP_SEED = "ex_drop_seed"  # the seed of the dropout mask (number input; "Draw a new mask" bumps it)
EX_DROP_NEW = "ex_drop_new"  # Draw a new mask (button)
EX_AUG_FLIP = "ex_aug_flip"  # augmentation preview: flips (toggle)
EX_AUG_SHIFT = "ex_aug_shift"  # shift of up to N pixels (slider)
EX_AUG_ROTATE = "ex_aug_rotate"  # rotation of up to N degrees (slider)
EX_AUG_DATA = "ex_aug_data"  # the bundled dataset previewed (radio)
EX_AUG_SEED = "ex_aug_seed"  # the batch's seed ("Augment again" bumps it)
EX_AUG_AGAIN = "ex_aug_again"  # Augment again (button)

# --- Workspace ---
# app/workspace/identity.py: which workspace this browser session belongs to.
WS_ID = "ws_id"  # this session's workspace id (from the convlab_workspace cookie, or made for it)
WS_STORE_TOLD = "ws_store_told"  # the workspace store's sentences already shown this session (once each)
WS_COOKIE_WRITTEN = "ws_cookie_written"  # the id whose cookie script this session has sent (once)

# --- shared ---
PRESENTATION = "presentation_mode"  # large text for projecting (sidebar toggle)

# --- Blocks helper: the Architecture page's "Train this network" hand-off (app/training/link.py) ---
TR_HANDOFF = "tr_handoff"  # set when the Architecture page offers its Train link; the Training page honours it once

# --- Training page: "Fine-tune a pretrained network" (app/training/transfer_view.py) ---
TR_FT_SOURCE = "tr_ft_source"  # where the few-shot images come from (radio: a zip, or camera photos)
TR_FT_ZIP = "tr_ft_zip"  # the few-shot zip of class folders (file uploader)
TR_FT_CLASS = "tr_ft_class"  # the class name the next camera photo goes to (text input)
TR_FT_CAMERA = "tr_ft_camera"  # the camera (st.camera_input)
TR_FT_ADD = "tr_ft_add"  # Add this photo (button)
TR_FT_CLEAR = "tr_ft_clear"  # Remove all photos (button)
TR_FT_PHOTOS = "tr_ft_photos"  # dict[class name, list[bytes]]: the camera photos taken this session
TR_FT_DATA = "tr_ft_data"  # cnn_core.data.ImageSet: the few-shot set last read (kept across reruns)
TR_FT_MODE = "tr_ft_mode"  # the freeze mode (radio over transfer.FREEZE_MODES)
TR_FT_STEPS = "tr_ft_steps"  # optimiser steps of each of the two runs (number input)
TR_FT_GO = "tr_ft_go"  # Fine-tune and train from scratch (button)
TR_FT_PLAN = "tr_ft_plan"  # app.training.transfer_view.Comparison: the two runs and their jobs
TR_FT_WAS_BUSY = "tr_ft_was_busy"  # the comparison was running at the fragment's last draw (its end redraws the page)
