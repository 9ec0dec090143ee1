"""AppTest of the Experiments page: a ready-made experiment run with one click, kept runs compared,
and the batch-norm, dropout and augmentation explainers showing the core's numbers."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import state
from app.experiments import ready, runner
from app.experiments.explain import bn_view
from app.training.keep import encode_events
from app.training.run import registry
from app.workspace import RunRecord, identity
from cnn_core import training as T
from cnn_core.inspection import regularisation as R
from cnn_core.training import experiments as X

ROOT = Path(__file__).resolve().parents[2]
QUICK = T.TrainConfig(epochs=2, batch_size=50, evals_per_epoch=1, eval_samples=None, schedule="none", device="cpu")
TINY = X.Experiment(
    "tiny_test", "Tiny test experiment", "Does a higher learning rate help?", "mnist", 300, 200,
    (X.Arm("slow", "lr 0.0003", X.small_cnn(widths=(4, 8), dense=16), QUICK.__class__(**{**QUICK.__dict__, "lr": 3e-4})),
     X.Arm("fast", "lr 0.003", X.small_cnn(widths=(4, 8), dense=16), QUICK.__class__(**{**QUICK.__dict__, "lr": 3e-3}))),
    "", shows_gap=True,
)  # fmt: skip


def open_page(ws: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    if ws is not None:
        at.session_state[state.WS_ID] = ws  # what the browser's workspace cookie gives
    at.switch_page("app_pages/experiments.py")
    at.run()
    assert not at.exception, at.exception
    return at


TABLES = {  # a column only each of the page's tables has (an st.table has no key)
    "ex_arms_table": "what changes",
    "ex_results_table": "gap (points)",
    "ex_settings_table": "settings",
    "ex_bn_table": "statistic",
}


def table(at: AppTest, name: str):
    found = [d.value for d in at.table if TABLES[name] in d.value.columns]
    assert found, f"no {name} on the page"
    return found[0]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(parts + [e.value for e in [*at.info, *at.success, *at.warning, *at.error]])


def test_the_page_describes_each_experiment_honestly():
    at = open_page()
    assert at.title[0].value == "Experiments"
    arms = table(at, "ex_arms_table")
    assert arms["arm"].tolist() == [a.name for a in X.EXPERIMENTS["overfitting"].arms]
    said = texts(at)
    assert X.EXPERIMENTS["overfitting"].measured() in said and "One seed" in said
    at.selectbox(key=state.EX_PICK).set_value("learning_rates").run()
    assert table(at, "ex_arms_table")["arm"].tolist() == ["lr 0.001", "lr 0.01", "lr 0.1", "lr 1"]
    assert "Press **Run this experiment**: its 4 runs train one after another" in texts(at)
    assert "each in seconds" not in texts(at)  # issue #13: an arm took ~55 s on a busy machine; nothing promised


def test_the_start_hint_quotes_only_times_this_workspace_measured():
    exp = X.EXPERIMENTS["overfitting"]
    assert ready.start_hint(exp, {}).endswith("The table shows how many seconds each one took.")
    done = runner.ExperimentRun(exp, [runner.ArmRun(a, status="done") for a in exp.arms])
    for arm_run, s in zip(done.arms[:3], [48.6, 61.2, 55.0], strict=True):
        arm_run.result = X.ArmResult(arm_run.arm.name, "completed", 0.9, 0.8, 0.8, 0.5, 0.3, s)
    said = ready.start_hint(exp, {"overfitting": done})
    assert f"its {len(exp.arms)} runs" in said and "took 49–61 s each on this server" in said


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(X.EXPERIMENTS, TINY.key, TINY)
    return TINY


def _wait(at: AppTest, timeout: float = 150) -> None:
    """Rerun the page, as its live fragment does, until this session's experiment job is over."""
    run = at.session_state[state.EX_RUN]
    job = next(j for j in registry().jobs() if j.context is run)
    deadline = time.monotonic() + timeout
    while True:
        if not job.active:
            break
        if time.monotonic() > deadline:
            raise AssertionError("the experiment did not finish in time")
        time.sleep(0.25)
        at.run()
    at.run()
    assert not at.exception, at.exception


def test_one_click_runs_every_arm_and_keeps_the_comparison(tiny):
    at = open_page()
    at.selectbox(key=state.EX_PICK).set_value(tiny.key).run()
    at.button(key=state.EX_START).click().run()
    assert not at.exception, at.exception
    run = at.session_state[state.EX_RUN]
    assert [a.arm.name for a in run.arms] == ["slow", "fast"]
    _wait(at)
    assert [a.status for a in run.arms] == ["done", "done"]
    results_frame = table(at, "ex_results_table")
    assert results_frame["arm"].tolist() == ["slow", "fast"] and results_frame["status"].tolist() == [
        "finished",
        "finished",
    ]
    results = run.results()
    assert results_frame["held-out acc."].tolist() == [f"{100 * r.test_acc:.1f}%" for r in results]
    assert at.success[0].value == X.verdict(tiny, results)
    assert results[0].train_acc is not None and 0 <= results[0].train_acc <= 1
    # each arm is one of the workspace's runs, with its settings, and the results are kept
    ws = at.session_state[state.WS_ID]
    store = identity.store()
    for arm_run in run.arms:
        record = store.get_run(ws, arm_run.run_id)
        assert record.status == "finished" and record.has_model
        assert record.settings["experiment"] == {
            "key": tiny.key,
            "arm": arm_run.arm.name,
            "n_train": 300,
            "n_test": 200,
        }
        assert record.settings["train"]["lr"] == arm_run.arm.train.lr
    kept = store.get_item(ws, runner.ITEM, tiny.key)
    assert [a["name"] for a in kept["arms"]] == ["slow", "fast"]
    # a reload (a new session of the same workspace) finds the job; after a restart (the registry has
    # forgotten it) the comparison comes from the workspace, its curves from the kept runs
    again = open_page(ws)
    again.selectbox(key=state.EX_PICK).set_value(tiny.key).run()
    assert again.session_state[state.EX_RUN] is run
    job = next(j for j in registry().jobs() if j.context is run)
    registry().forget(job)
    again = open_page(ws)
    again.selectbox(key=state.EX_PICK).set_value(tiny.key).run()
    assert "Your last run of this experiment" in texts(again)
    # the arms' curves and the gap (drawn from the kept runs), the overlay, batch norm and dropout
    assert len(again.get("plotly_chart")) == 5
    assert table(again, "ex_results_table")["held-out acc."].tolist() == results_frame["held-out acc."].tolist()
    assert again.success[0].value == X.verdict(tiny, results)
    # and the compare section lists both arms among the kept runs
    picked = again.multiselect(key=state.EX_COMPARE).value
    assert {a.run_id for a in run.arms} <= set(picked)


def test_stop_ends_the_experiment_and_the_rest_do_not_run(tiny, monkeypatch):
    long = X.Arm("long", "many epochs", tiny.arms[0].model, QUICK.__class__(**{**QUICK.__dict__, "epochs": 200}))
    monkeypatch.setitem(X.EXPERIMENTS, tiny.key, X.Experiment(**{**tiny.__dict__, "arms": (long, tiny.arms[1])}))
    at = open_page()
    at.selectbox(key=state.EX_PICK).set_value(tiny.key).run()
    at.button(key=state.EX_START).click().run()
    run = at.session_state[state.EX_RUN]
    deadline = time.monotonic() + 60
    while not run.arms[0].events.snapshot() and time.monotonic() < deadline:
        time.sleep(0.25)
        at.run()
    at.button(key=state.EX_STOP).click().run()
    _wait(at)
    assert [a.status for a in run.arms] == ["stopped", "not run"]
    assert table(at, "ex_results_table")["status"].tolist() == ["stopped", "not run"]
    assert "did not run" in texts(at)


def _record(ws: str, run_id: str, lr: float, accs: list[float]) -> RunRecord:
    events = [T.RunStarted(10, 5, 2, 50, 250, 100, "cpu", "fp32", 1)]
    events += [T.EvalEvent(5 * (i + 1), i + 1, i + 1.0, 0.5, a, 0.6, a, 1.0, 1.0, 0.1) for i, a in enumerate(accs)]
    events.append(T.RunFinished("completed", "", 10, 2.0, 0.5, accs[-1], 2.0, 1.5))
    settings = {"dataset": {"kind": "bundled", "name": "mnist", "title": "MNIST (bundled subset)"},
                "model": {"name": "Small CNN"}, "train": {"lr": lr, "epochs": 2, "optimizer": "sgd", "batch_size": 50,
                "weight_decay": 0.0, "augment_shift": 2}}  # fmt: skip
    now = time.time()
    return RunRecord(run_id, ws, f"run lr {lr:g}", "finished", now, now, settings=settings,
                     summary={"test_acc": accs[-1], "val_acc": accs[-1], "seconds": 1.5}, curve=encode_events(events))  # fmt: skip


def test_kept_runs_are_overlaid_with_their_settings():
    at = open_page()
    ws = at.session_state[state.WS_ID]
    store = identity.store()
    store.save_run(_record(ws, "runa", 0.01, [0.5, 0.7]))
    store.save_run(_record(ws, "runb", 0.1, [0.6, 0.9]))
    at = open_page(ws)
    assert set(at.multiselect(key=state.EX_COMPARE).value) == {"runa", "runb"}
    frame = table(at, "ex_settings_table")
    assert sorted(w for s in frame["settings"] for w in s.split(" · ") if " lr " in w) == ["sgd lr 0.01", "sgd lr 0.1"]
    assert set(frame["test acc."]) == {"70.0%", "90.0%"}
    assert all(s.endswith("augmentation: shift ≤2 px") for s in frame["settings"])
    at.radio(key=state.EX_METRIC).set_value("val_loss").run()
    assert not at.exception
    at.multiselect(key=state.EX_COMPARE).set_value(["runb"]).run()
    assert table(at, "ex_settings_table")["run"].tolist() == ["run lr 0.1"]


def test_explainers_show_the_cores_numbers():
    at = open_page()
    at.slider(key=state.EX_BN_BATCHES).set_value(100).run()
    bn = table(at, "ex_bn_table").set_index("statistic").astype(float)  # one column per channel
    assert bn.columns.tolist() == [n.replace(" (4-neighbour)", "") for n in R.BN_KERNELS]

    expected = bn_view(100, 32)
    np.testing.assert_allclose(bn.loc["running mean"].to_numpy(), expected.running_mean.round(4), atol=1e-4)
    assert np.all(np.abs(bn.loc["eval-mode mean"].to_numpy()) < 0.2)  # after 100 batches eval is near training
    assert np.all(np.abs(bn.loc["eval-mode spread"].to_numpy() - 1) < 0.2)
    at.slider(key=state.EX_BN_BATCHES).set_value(1).run()
    # after one batch the running statistics have hardly moved: evaluation mode leaves the spreads far from 1
    spread = table(at, "ex_bn_table").set_index("statistic").loc["eval-mode spread"].astype(float)
    assert np.any(np.abs(spread.to_numpy() - 1) > 0.3)
    at.slider(key=state.EX_DROP_P).set_value(0.25).run()
    d = R.dropout_view(np.round(np.linspace(0.2, 2.4, 12), 2), p=0.25, seed=0)
    assert f"**{12 - int(d.keep.sum())} of 12** values dropped" in texts(at) and "= **1.33**" in texts(at)
    at.button(key=state.EX_DROP_NEW).click().run()
    assert at.number_input(key=state.EX_DROP_SEED).value == 1
    at.toggle(key=state.EX_AUG_FLIP).set_value(True)
    at.radio(key=state.EX_AUG_DATA).set_value("mnist").run()
    assert "flips suit clothing, not digits" in texts(at)
    at.button(key=state.EX_AUG_AGAIN).click().run()
    assert "(draw 2)" in texts(at) and not at.exception


def test_an_arm_that_cannot_train_is_a_sentence_and_the_rest_do_not_run(tiny, monkeypatch):
    from cnn_core import models as M

    wrong = M.ModelConfig("Five outputs", (1, 28, 28), (M.FlattenSpec(), M.DenseSpec(5, "none")))
    bad = X.Arm("wrong outputs", "5 outputs for 10 classes", wrong, QUICK)
    monkeypatch.setitem(X.EXPERIMENTS, tiny.key, X.Experiment(**{**tiny.__dict__, "arms": (bad, tiny.arms[1])}))
    at = open_page()
    at.selectbox(key=state.EX_PICK).set_value(tiny.key).run()
    at.button(key=state.EX_START).click().run()
    run = at.session_state[state.EX_RUN]
    _wait(at)
    assert [a.status for a in run.arms] == ["failed", "not run"]
    assert any("last layer must have 10 outputs" in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key=state.EX_START).disabled is False  # the page goes on: it can be run again


def test_the_batch_norm_chart_stacks_its_panels_and_leaves_the_numbers_to_the_table():
    """At 1024x768 in presentation mode, twelve labelled bars side by side in half the width overlapped
    and plotly shrank their numbers under 16 px: the panels are stacked, full width, and bars carry no text;
    the chart goes through layout.chart (no toolbar over the panel title, text scaled for a projector)."""
    from app import plots
    from app.plots import for_projector

    names = ["Gaussian blur 3x3", "Sobel x", "Laplacian", "Sharpen"]
    stats = [np.arange(4.0) + i for i in range(3)]
    fig = plots.batch_norm_bars(names, stats, stats, ["before batch norm", "after, training", "after, eval"])
    assert fig.layout.xaxis.domain == fig.layout.xaxis2.domain == (0.0, 1.0)  # one above the other
    assert all(bar.text is None for bar in fig.data)
    assert list(fig.layout.xaxis2.ticktext) == ["Gaussian<br>blur 3x3", "Sobel<br>x", "Laplacian", "Sharpen"]
    assert for_projector(fig).layout.legend.font.size >= 16
    for module in ("explain", "ready", "compare"):
        assert "st.plotly_chart" not in (ROOT / "app" / "experiments" / f"{module}.py").read_text(), module


def test_every_experiments_figure_sets_its_text_sizes_so_presentation_mode_scales_them():
    """Sizes left unset are filled in by Streamlit's theme at 15 px in presentation mode (seen: legends, the
    dropout strip's row names, the result curves' ticks), which for_projector cannot scale: each is set."""
    from app import plots
    from app.plots import for_projector

    x = np.linspace(0.2, 2.4, 4)
    figs = {
        "runs_overlay": plots.runs_overlay(["a", "b"], [[1, 2], [1, 2]], [[0.5, 0.6], [0.4, 0.7]], y_title="%"),
        "arm_curves": plots.arm_curves(["no remedy", "dropout 0.5"], [[1, 2]] * 2, [[0.5, 0.9]] * 2, [[0.4, 0.6]] * 2),
        "gap_bars": plots.gap_bars(["no remedy", "dropout 0.5"], [0.9, 0.8], [0.6, 0.7]),
        "dropout_strip": plots.dropout_strip(x, np.array([1, 0, 1, 1], bool), x * 2, x),
    }
    for name, fig in figs.items():
        big = for_projector(fig).layout
        axes = [big[k] for k in big.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]
        assert axes and all(a.tickfont.size >= 16 for a in axes), name
        assert name == "dropout_strip" or big.legend.font.size >= 16, name
    assert all(bar.orientation == "h" for bar in figs["gap_bars"].data)  # arms' names never share a line
    arm = figs["arm_curves"].layout
    assert arm.xaxis.domain == arm.xaxis2.domain == (0.0, 1.0)  # stacked: each panel the chart's full width


def test_the_link_names_the_experiment_shown_and_opens_it():
    """?experiment=<id> picks that experiment (a lesson step can open one); the address bar follows the
    picker; an unknown id gets a sentence and the page opens on the first experiment."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.query_params["experiment"] = "learning_rates"
    at.switch_page("app_pages/experiments.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key=state.EX_PICK).value == "learning_rates"
    at.selectbox(key=state.EX_PICK).set_value("overfitting").run()
    assert at.query_params["experiment"] in ("overfitting", ["overfitting"])
    bad = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    bad.query_params["experiment"] = "nope"
    bad.switch_page("app_pages/experiments.py")
    bad.run()
    assert not bad.exception and bad.selectbox(key=state.EX_PICK).value == "overfitting"
    assert any("“nope” that ConvLab does not have" in w.value for w in bad.warning)
