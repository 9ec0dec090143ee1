"""The ready-made experiments section: pick one, run it with one click, watch its arms go, read the comparison.

While the experiment's job is queued or training, a fragment redraws every 2 s: which arm is
training and how far, the arms done so far, and (when every arm is done) the comparison table,
the verdict computed by :func:`cnn_core.training.experiments.verdict` and the curves. A finished
experiment is drawn again from the workspace after a reload.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import layout, plots, state
from app.experiments import runner
from app.jobs import Job
from app.jobs.history import progress_of
from app.training.run import registry
from cnn_core import training
from cnn_core.training import experiments as X

LIVE_EVERY_S = 2.0


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _points(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def arms_table(experiment: X.Experiment) -> pd.DataFrame:
    """The arms and what each one changes."""
    return pd.DataFrame({"arm": [a.name for a in experiment.arms], "what changes": [a.change for a in experiment.arms]})


def results_table(run: runner.ExperimentRun) -> pd.DataFrame:
    """Results, one row per arm, in short columns that fit a projector's half page (the arms table above
    says what each arm changes; its settings are in "Compare your runs")."""
    rows = []
    for a in run.arms:
        r = a.result
        rows.append({
            "arm": a.arm.name,
            "status": runner.STATUS_WORDS.get(a.status, a.status),
            "training acc.": _pct(r and r.train_acc),
            "held-out acc.": _pct(r and r.test_acc),
            "gap (points)": _points(r and r.gap),
            "last loss": "–" if r is None or r.train_loss is None else f"{r.train_loss:.3f}",
            "seconds": "–" if r is None or r.seconds is None else f"{r.seconds:.0f}",
        })  # fmt: skip
    return pd.DataFrame(rows)


def start_hint(experiment: X.Experiment, kept: dict[str, runner.ExperimentRun]) -> str:
    """What pressing Run does, and how long an arm has taken on this server: measured by this workspace's
    earlier experiments, never promised."""
    n = len(experiment.arms)
    said = f"Press **Run this experiment**: its {n} runs train one after another, each in its own training process."
    took = [a.result.seconds for r in kept.values() for a in r.arms if a.result is not None and a.result.seconds]
    if took:
        lo, hi = min(took), max(took)
        span = f"{lo:.0f} s" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f} s"
        return f"{said} Your earlier experiments' runs took {span} each on this server."
    return f"{said} The table shows how many seconds each one took."


LINK_PARAM = "experiment"  # ?experiment=<id>: the ready-made experiment shown (a lesson step or a shared link)


def follow_link() -> None:
    """A new ``?experiment=`` into the picker before it is drawn; a sentence when it names no experiment."""
    wanted = st.query_params.get(LINK_PARAM)
    if wanted is None or wanted == st.session_state.get(state.EX_LINK):
        return
    st.session_state[state.EX_LINK] = wanted
    if wanted in X.EXPERIMENTS:
        st.session_state[state.EX_PICK] = wanted
    else:
        names = ", ".join(X.EXPERIMENTS)
        st.warning(f"The link names an experiment “{wanted}” that ConvLab does not have (it has {names}).")


def section() -> None:
    """The whole section: choice, description, Run / Stop, and the live or kept result."""
    keys = list(X.EXPERIMENTS)
    follow_link()
    key = st.selectbox("Experiment", keys, key=state.EX_PICK, format_func=lambda k: X.EXPERIMENTS[k].title)
    st.session_state[state.EX_LINK] = key  # the address bar names the experiment on screen
    if st.query_params.get(LINK_PARAM) != key:
        st.query_params[LINK_PARAM] = key
    exp = X.EXPERIMENTS[key]
    st.markdown(f"**{exp.question}**")
    st.table(arms_table(exp), hide_index=True, border="horizontal")  # an HTML table: its sentences wrap
    st.caption(f"What is measured: {exp.measured()} {exp.reading}")
    run, job = runner.current_run()
    active = job is not None and job.active
    c1, c2 = st.columns(2)
    if c1.button("Run this experiment", key=state.EX_START, disabled=active, type="primary", icon=":material/science:"):
        try:
            runner.start_experiment(exp)
        except (RuntimeError, ValueError) as err:
            st.session_state[state.EX_NOTE] = str(err)
        st.rerun()
    if c2.button("Stop", key=state.EX_STOP, disabled=not active, icon=":material/stop:") and job is not None:
        registry().stop(job)
    if note := st.session_state.pop(state.EX_NOTE, None):
        st.error(note)
    live(key, active)


def live(key: str, active: bool) -> None:
    @st.fragment(run_every=LIVE_EVERY_S if active else None)
    def draw() -> None:
        run, job = runner.current_run()
        if job is not None:
            job.mark_seen()  # the heartbeat: this tab is open
            registry().beat(job.owner)
        now_active = job is not None and job.active
        if run is not None and run.experiment.key != key:
            if now_active:
                st.info(f"Now running: **{run.experiment.title}**. Its progress is shown here.")
            else:
                run = None
        if run is None:
            run = runner.kept_runs().get(key)
            if run is not None:
                st.caption("Your last run of this experiment, kept in your workspace:")
        if run is None:
            st.info(start_hint(X.EXPERIMENTS[key], runner.kept_runs()))
        else:
            show(run, job if job is not None and job.context is run else None)
        if st.session_state.get(state.EX_WAS_ACTIVE) and not now_active:
            st.session_state[state.EX_WAS_ACTIVE] = False
            st.rerun()  # the experiment ended: redraw the page's buttons once
        st.session_state[state.EX_WAS_ACTIVE] = now_active

    draw()


def show(run: runner.ExperimentRun, job: Job | None) -> None:
    """How far the experiment is and, when done, the comparison."""
    if job is not None and job.status == "queued":
        pos = registry().queue_position(job)
        st.info(f"Waiting for a free training slot{f' (number {pos} in the queue)' if pos else ''}.")
    if run.current is not None:
        arm_run = run.arms[run.current]
        p = progress_of(arm_run.events.snapshot())
        frac = 0.0 if p is None else p.fraction
        left = "" if p is None or p.eta_s is None else f", about {p.eta_s:.0f} s left"
        st.progress(frac, text=f"Training arm {run.current + 1} of {len(run.arms)}: **{arm_run.arm.name}** "
                    f"({frac:.0%}{left})")  # fmt: skip
    if job is not None and job.error:
        st.error(job.error)
    if run.note:
        st.warning(run.note, icon=":material/cloud_off:")
    st.table(results_table(run), hide_index=True, border="horizontal")
    if not run.finished:
        return
    results = run.results()
    st.success(X.verdict(run.experiment, results), icon=":material/analytics:")
    if any(a.status == "not run" for a in run.arms):
        st.caption("Some arms did not run (the experiment was stopped): compare only the ones that did.")
    names, xs, train, held = [], [], [], []
    for a in run.arms:
        evals = [e for e in runner.arm_events(run, a) if isinstance(e, training.EvalEvent)]
        if evals:
            names.append(a.arm.name)
            xs.append([e.epoch_fraction for e in evals])
            train.append([e.train_acc for e in evals])
            held.append([e.val_acc for e in evals])
    if names:
        layout.chart(plots.arm_curves(names, xs, train, held), key="ex_arm_curves")
        st.caption(
            "Top: accuracy on the training batches as they were trained on (in training mode, with the arm's "
            "dropout or augmentation, if it has any). Below: accuracy on held-out images no run trained on."
        )
    if run.experiment.shows_gap:
        layout.chart(plots.gap_bars([r.arm for r in results], [r.train_acc for r in results],
                                     [r.test_acc for r in results]), key="ex_gap_bars")  # fmt: skip
    st.caption("Each arm is also one of your runs: load it on the Training page to look inside it.")
