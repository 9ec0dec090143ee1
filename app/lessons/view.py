"""The Lessons page's parts: the lessons (read once per process), the page's own link, the step panel.

The page's link is ``?lesson=<id>&step=<n>`` (n from 1), so an instructor can push a step to the
class and a learner can share one. :func:`follow_link` puts a new link's lesson and step into the
pickers before they are drawn; :func:`publish` keeps the address bar equal to what is on screen.
:func:`step_panel` asks the question, opens the step's page in a new tab (a fresh session that
follows the link, so the page shows exactly the step's settings), checks the prediction and, after
a check, reveals the answer the core computed with ConvLab's explanation.
"""

from __future__ import annotations

import streamlit as st

from app import layout, state
from app.instructor import class_settings
from app.instructor.in_class import link_href
from app.lessons import progress
from app.lessons.links import step_link
from cnn_core.lessons import Lesson, LessonError, Step, Verdict, answer, check_prediction, load_lessons
from cnn_core.numbers import format_number

LESSON_PARAM, STEP_PARAM = "lesson", "step"


@st.cache_resource(show_spinner=False)
def lessons() -> dict[str, Lesson]:
    """Every lesson file, read and checked once per server process (read-only afterwards)."""
    return load_lessons()


def all_lessons() -> dict[str, Lesson] | None:
    """The lessons, or None after saying in a sentence which file is broken."""
    try:
        return lessons()
    except LessonError as err:
        st.error(f"The lessons cannot be shown: {err}", icon=":material/error:")
        return None


def follow_link(found: dict[str, Lesson]) -> None:
    """A new ``?lesson=&step=`` link into the pickers; a sentence when it names no lesson or step."""
    ss = st.session_state
    link = {k: st.query_params[k] for k in (LESSON_PARAM, STEP_PARAM) if k in st.query_params}
    if not link or link == ss.get(state.LS_LINK):
        return
    ss[state.LS_LINK] = link
    _go_to(found, link)


def keep_place(found: dict[str, Lesson]) -> None:
    """A picker whose value is gone from the session (Streamlit dropped the widget's state) gets back the lesson
    and step last on screen (``LS_LINK``, published every run), not the first lesson: a CI run saw a student's
    lesson turn into lesson 1 between two Checks. The first lesson only when nothing was on screen yet."""
    ss = st.session_state
    if ss.get(state.LS_LESSON) in found:
        return
    last = ss.get(state.LS_LINK) or {}
    if last.get(LESSON_PARAM) in found:
        _go_to(found, last)
    else:
        ss[state.LS_LESSON] = next(iter(found))


def _go_to(found: dict[str, Lesson], link: dict[str, str]) -> None:
    """The pickers on the lesson and step ``link`` names; a sentence when it names no lesson or step."""
    ss = st.session_state
    lesson = found.get(link.get(LESSON_PARAM, ""))
    if lesson is None:
        st.warning(f"The link names a lesson “{link.get(LESSON_PARAM, '')}” that ConvLab does not have.")
        return
    ss[state.LS_LESSON] = lesson.id
    try:
        n = int(link.get(STEP_PARAM, "1"))
    except ValueError:
        n = 1
    if not 1 <= n <= len(lesson.steps):
        st.warning(f"“{lesson.title}” has steps 1 to {len(lesson.steps)}; it opens at step 1.")
        n = 1
    ss[state.LS_STEP] = n - 1


def publish(lesson: Lesson, index: int) -> None:
    """Keep the address bar equal to the lesson and step on screen."""
    wanted = {LESSON_PARAM: lesson.id, STEP_PARAM: str(index + 1)}
    st.session_state[state.LS_LINK] = wanted
    if {k: st.query_params.get(k) for k in wanted} != wanted:
        st.query_params.from_dict(wanted)


def lesson_label(lesson: Lesson) -> str:
    """The lesson's name in the picker (fixed text: a picker's options must not change between runs)."""
    return f"{lesson.order}. {lesson.title}"


def step_label(lesson: Lesson, index: int) -> str:
    return f"Step {index + 1}"


def progress_list(found: dict[str, Lesson]) -> None:
    """Every lesson with its progress: steps done and first predictions right."""
    lines = []
    for lesson in found.values():
        done, right = progress.done_count(lesson)
        n = len(lesson.steps)
        mark = "✓" if done == n else "◐" if done else "○"
        how = f"{done}/{n} steps, {right} right first time" if done else f"not started, {n} steps"
        lines.append(f"{lesson.order}. {mark} **{lesson.title}**: {how}")  # numbered as in the Lesson picker
    st.markdown("\n".join(lines))


def steps_line(lesson: Lesson, index: int) -> str:
    """ "Steps: 1 ✓ · **2** · 3": which steps are done, the current one in bold."""
    kept = progress.progress()
    parts = []
    for i in range(len(lesson.steps)):
        text = f"{i + 1}" + (" ✓" if progress.step_key(lesson.id, i + 1) in kept else "")
        parts.append(f"**{text}**" if i == index else text)
    return "Steps: " + " · ".join(parts)


def reset_step() -> None:
    """A new lesson starts at its first step."""
    st.session_state[state.LS_STEP] = 0


def next_step(n_steps: int) -> None:
    ss = st.session_state
    ss[state.LS_STEP] = min(int(ss.get(state.LS_STEP, 0)) + 1, n_steps - 1)


def _prediction(step: Step, key: str) -> str | None:
    widget = state.LS_PREDICT.format(step=key)
    if step.kind == "choice":
        return st.radio("Your prediction", step.choices, index=None, key=widget)
    return st.text_input("Your prediction", key=widget, placeholder="a number, such as 13, -2.5 or 1/9")


def _checked(lesson: Lesson, index: int) -> None:
    """Check's callback (before the rerun it causes, so the progress drawn above the step is already new)."""
    ss = st.session_state
    step, key = lesson.steps[index], progress.step_key(lesson.id, index + 1)
    typed = ss.get(state.LS_PREDICT.format(step=key))
    verdict = check_prediction(step, typed)
    if verdict.problem:
        ss[state.LS_PROBLEM] = verdict.problem
        return
    progress.record(lesson.id, index + 1, str(typed), verdict.right)
    ss.setdefault(state.LS_SHOWN, {})[key] = verdict


def step_panel(lesson: Lesson, index: int) -> None:
    """One step: its page link, the question, the prediction and Check, then the reveal and Next."""
    step, key = lesson.steps[index], progress.step_key(lesson.id, index + 1)
    st.subheader(f"Step {index + 1} of {len(lesson.steps)}: {step.title}")
    try:
        link = step_link(step)
    except ValueError as err:  # the lessons' test opens every step, so this is never a student's problem
        st.error(f"This step's page settings cannot be used: {err}")
        return
    st.markdown(f"**Predict first.** {step.question}")
    if step.hint:
        st.caption(step.hint)
    with st.form(state.LS_FORM.format(step=key)):
        _prediction(step, key)
        st.form_submit_button("Check", type="primary", on_click=_checked, args=(lesson, index))
    if layout.shown(link.title, class_settings.current()):
        st.link_button(
            f"Open this on the {link.title} page",
            link_href(link.path),
            icon=":material/open_in_new:",
            help="Opens the page with this step's settings in a new tab; this lesson stays here. "
            "Predict first: the page may show the answer.",
        )
    else:
        st.caption(f"The instructor has hidden the {link.title} page for now; predict and check here.")
    shown: dict[str, Verdict] = st.session_state.setdefault(state.LS_SHOWN, {})
    if problem := st.session_state.pop(state.LS_PROBLEM, None):
        st.error(problem)
    if key in shown:
        reveal(step, shown[key])
        if index + 1 < len(lesson.steps):
            st.button("Next step", key=state.LS_NEXT, on_click=next_step, args=(len(lesson.steps),), type="primary")
        else:
            st.success(f"That was the last step of “{lesson.title}”. {progress.summary_text(lesson)}")


def reveal(step: Step, verdict: Verdict) -> None:
    """The answer the core computed, whether the prediction was it, and why."""
    ans = answer(step)
    if verdict.right:
        st.success(f"Right: the answer is {ans.text}.", icon=":material/check_circle:")
    else:
        said = format_number(verdict.value) if isinstance(verdict.value, float) else verdict.value
        st.warning(f"Not quite: you predicted {said}; the answer is {ans.text}.", icon=":material/lightbulb:")
    st.markdown(step.explain(ans))
    if ans.notes_differ and "{notes}" not in step.explanation:
        st.caption(f"The course notes print {ans.notes} here; the correct value is {ans.text}.")
