"""The classroom on every student's page: the heartbeat, the banner, the pushed link, the open poll.

:func:`class_panel` draws it at the top of the sidebar in a fragment. The fragment has no timer of
its own: a small browser component asks the server's watch address (:mod:`app.server.class_watch`)
every :data:`REFRESH_S` seconds, which beats the student's presence (the page, the training status,
the nickname) into the classroom and the heartbeat of their training run, and the fragment reruns
only when what it shows changed there (an idle class of 100 tabs costs 100 small HTTP requests per
3 s, not 33 Streamlit runs a second). It shows what the instructor posted; something new is also
announced with a toast, and copied over the page's title (:func:`page_banner`) for a phone whose
sidebar is folded away, where the poll can be answered too. When the class settings differ from
those the page was drawn with, it reruns the whole page, so a choice the instructor switched off goes
at once. A student is shown to the instructor under :func:`presence_id`, a one-way name of their
workspace, so their tabs are one row and the workspace id itself is never written there.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from typing import TYPE_CHECKING

import streamlit as st

from app import components, state
from app.server import class_watch
from app.workspace import StoreError, identity
from app.workspace.classroom import Classroom, Poll, PushedLink

if TYPE_CHECKING:  # app.jobs imports torch (through cnn_core.training): never on a page that trains nothing
    from app.jobs import Job, JobRegistry

REFRESH_S = class_watch.EVERY_S
_WATCH = components.register(  # it draws nothing: no gap in the sidebar either
    "convlab_class_watch", class_watch.__file__, "class_watch", css=f".st-key-{state.CL_WATCH} {{ display: none; }}"
)


def presence_id(workspace: str) -> str:
    """The name a workspace's pages beat under: stable, and not the workspace id itself."""
    return "p-" + hashlib.sha256(workspace.encode("utf-8")).hexdigest()[:16]


def link_href(url: str) -> str:
    """A pushed path (``/kernel_lab?x=1``) as a link relative to the page, so it also works behind a proxy's base path."""
    return "./" + url.lstrip("/")


def training_registry() -> JobRegistry | None:
    """The server's job registry, or None while nothing in this process has imported training.

    The registry lives in :mod:`app.training`, which imports torch (seconds on a cold server). A
    process where no page has imported it has no registry and so no runs: the sidebar of Home or
    the Kernel Lab then never pays for torch.
    """
    if "app.training" not in sys.modules and st.session_state.get(state.TR_JOB) is None:
        return None
    from app.training import registry  # the server's job registry (st.cache_resource)

    return registry()


def current_job(registry: JobRegistry, workspace: str) -> Job | None:
    """This session's run, or an active run of the same workspace started in another tab."""
    job = st.session_state.get(state.TR_JOB)
    if job is None or not job.active:
        other = registry.latest_for(workspace)
        if other is not None and (other.active or job is None):
            job = other
    return job


def _announce(kind: str, stamp: object, text: str) -> None:
    """A toast the first time this session sees something new."""
    seen = st.session_state.setdefault(state.CL_SEEN, {})
    if seen.get(kind) != stamp:
        seen[kind] = stamp
        st.toast(text, icon=":material/campaign:")


def page_key(news: class_watch.News) -> tuple | None:
    """What the page's own copy of the news (:func:`page_banner`) shows: the banner (text, when posted), the
    pushed link (address, when posted) and the poll (id, revealed); None when there is none of them."""
    banner = None if news.banner is None else (news.banner.text, news.banner.posted)
    link = None if news.link is None else (news.link.url, news.link.posted)
    poll = None if news.poll is None else (news.poll.poll_id, news.poll.revealed)
    return None if banner is link is poll is None else (banner, link, poll)


def page_banner() -> None:
    """What the instructor posted, once more over the page's title, for a student whose sidebar is folded away
    (a phone folds it; a toast says it only for a moment): the banner, the pushed link with its Open button,
    and an open poll with its own answer form (the answer once revealed). The copy is hidden while the sidebar
    is open (:data:`app.layout.BASE_CSS`). Drawn before the sidebar's box, which reruns the whole page when the
    news differs from this copy (:func:`class_panel`), so it follows the instructor without the student touching
    the page."""
    try:
        room = identity.classroom()
        news = class_watch.news(room)
    except StoreError:
        return
    drawn = st.session_state[state.CL_BANNER_DRAWN] = page_key(news)
    if drawn is None:
        return
    box = st.container(key=state.CL_PAGE_BANNER)
    if news.banner is not None:
        _banner_box(box, news.banner.text)
    if news.link is not None:
        _link_box(box, news.link)
    if news.poll is not None:
        workspace = identity.workspace_id()
        try:
            with box:
                _poll_box(room, news.poll, workspace, place="page")
        except StoreError as err:
            box.caption(f"The poll is out of reach for now: {err}")


def _banner_box(where, text: str) -> None:
    """The banner as drawn in the sidebar's box and over the page's title alike."""
    where.info(text, icon=":material/campaign:")


def _link_box(where, link: PushedLink) -> None:
    """The pushed link with its Open button, in the sidebar's box and over the page's title alike."""
    with where.container(border=True):
        st.markdown(f"**The instructor shows:** {link.label}")
        st.link_button(
            "Open",
            link_href(link.url),
            icon=":material/open_in_new:",
            help="Opens in a new tab; this one stays as it is.",
        )


def _outcome(poll: Poll) -> str:
    """What a revealed poll says: its answer, or that the answers are in (a poll without one)."""
    return "The answers are in" if poll.answer is None else f"The answer: {poll.answer}"


def _banner(news: class_watch.News) -> None:
    banner = news.banner
    if banner is not None:
        _banner_box(st, banner.text)
        _announce("banner", banner.posted, banner.text)


def _link(news: class_watch.News) -> None:
    link = news.link
    if link is None:
        return
    _link_box(st, link)
    _announce("link", link.posted, f"The instructor shows: {link.label} (see the sidebar)")


def _poll(room: Classroom, news: class_watch.News, workspace: str) -> None:
    poll = news.poll
    if poll is None:
        return
    _announce("poll", poll.poll_id, "The instructor opened a poll (see the sidebar).")
    _poll_box(room, poll, workspace, place="sidebar")


def _poll_box(room: Classroom, poll: Poll, workspace: str, *, place: str) -> None:
    """The poll's question and this workspace's answer: the form while it is open, the outcome once revealed.

    Drawn in the sidebar's box and in the page's copy alike; ``place`` keeps their forms apart, and an answer
    sent from either is the workspace's one answer.
    """
    with st.container(border=True):
        st.markdown(f"**Poll:** {poll.question}")
        mine = room.my_answer(poll.poll_id, workspace)
        if poll.revealed:
            _revealed(poll, mine)
            return
        with st.form(state.CL_POLL_FORM.format(poll=poll.poll_id, place=place), border=False):
            key = state.CL_ANSWER.format(poll=poll.poll_id, place=place)
            if poll.kind == "choice":
                answer = st.radio("Your answer", poll.choices, index=None, key=key)
            else:
                answer = st.text_input("Your answer", key=key, placeholder="a number, such as 13 or 1/9")
            sent = st.form_submit_button("Submit")
        if sent:
            if not answer:
                st.error("Pick one of the choices first." if poll.kind == "choice" else "Type your answer first.")
                return
            try:
                room.answer_poll(poll.poll_id, workspace, answer)
            except (ValueError, StoreError) as err:
                st.error(str(err))
                return
            mine = room.my_answer(poll.poll_id, workspace)
        if mine is not None:
            st.caption(f"Your answer: {mine}. You can change it until the answer is revealed.")


def _revealed(poll: Poll, mine: str | None) -> None:
    if poll.answer is None:
        st.info(f"{_outcome(poll)}.")
        return
    st.success(_outcome(poll))
    if mine is not None:
        st.caption(f"Your answer: {mine}, " + ("right." if mine == poll.answer else "not this time."))


def _training(job: Job | None, registry: JobRegistry | None) -> None:
    if job is None or registry is None:
        return
    from app.instructor import progress  # imports app.jobs (torch): only once there is a run

    if job.status == "queued":
        st.caption(f"Training: waiting, {progress.wait_text(job, registry)}.")
    elif job.active:
        p = job.progress()
        if p is not None and p.step > 0:
            st.progress(p.fraction, text=f"Training: epoch {p.epoch}/{p.epochs}")
        else:
            st.caption("Training: starting…")
    else:
        st.caption(f"Training: {job.status}." + (f" {job.stop_message}" if job.stop_message else ""))


def _status(job: Job | None, registry: JobRegistry | None) -> str | None:
    if job is None or registry is None:
        return None
    from app.instructor import progress

    return progress.status_text(job, registry)


def _watch(token: str, stamp: str) -> None:
    """The browser side: ask the watch address every few seconds, rerun this fragment when ``stamp`` is old."""
    data = {
        "url": "./" + class_watch.PATH.lstrip("/") + "?t=" + token,
        "stamp": stamp,
        "every_ms": int(REFRESH_S * 1000),
    }
    _WATCH(key=state.CL_WATCH, data=data, on_changed_change=lambda: None, height=0)


def class_panel(page: str, workspace: str) -> None:
    """The live classroom box at the top of the sidebar (a fragment the watch address reruns when it changed)."""

    @st.fragment
    def _panel() -> None:
        jobs = training_registry()
        job = None if jobs is None else current_job(jobs, workspace)
        if job is not None:
            job.mark_seen()  # the heartbeat that keeps the run going while this tab is open, on any page
        if jobs is not None:
            jobs.beat(workspace)
        training = _status(job, jobs)
        room = identity.classroom()
        nickname = (st.session_state.get(state.CL_NICKNAME) or "").strip() or None
        token = st.session_state.setdefault(state.CL_WATCH_TOKEN, secrets.token_urlsafe(18))
        own = st.session_state.get(state.TR_JOB)
        tab = class_watch.register(
            token, class_watch.Tab(room, workspace, presence_id(workspace), page, nickname, own, _status)
        )
        news, reachable = class_watch.news(room), True
        try:
            drawn = st.session_state.get(state.CL_SETTINGS_DRAWN)
            if drawn is not None and room.settings() != drawn:
                st.rerun()  # the instructor changed what the class may do: redraw the whole page now
            if (
                state.CL_BANNER_DRAWN in st.session_state
                and page_key(news) != st.session_state[state.CL_BANNER_DRAWN]
            ):
                st.rerun()  # a new banner, link or poll (or none): the page's own copy over its title follows it
            class_watch.beat(tab, training)  # written at once when the page, nickname or training line changed
            _banner(news)
            _link(news)
            _poll(room, news, workspace)
        except StoreError as err:
            st.caption(f"The classroom is out of reach for now: {err}")
            reachable = False
        _training(job, jobs)
        _watch(token, class_watch.stamp(room.settings(), news, training, reachable))

    _panel()
