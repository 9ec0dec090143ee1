"""A student walks one whole lesson in Chromium: predicts wrong, sees the answer and why, predicts
right, opens a step's page with its settings in a new tab, and finds the progress kept after a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from cnn_core import lessons
from tests.e2e.conftest import SHOTS
from tests.e2e.dom import layout_problems, wait_for_app

LESSON = lessons.load_lessons()["05_receptive_field"]


def _main(page: Page):
    return page.locator('[data-testid="stMain"]')


def _check(page: Page, typed: str) -> None:
    box = _main(page).get_by_label("Your prediction")
    expect(box).to_have_count(1)  # the step before's box stays in the page for a moment after the step changes
    box.fill(typed)
    _main(page).get_by_role("button", name="Check").click()


def test_a_student_walks_a_whole_lesson_and_the_progress_survives_a_reload(page: Page, server: str) -> None:
    page.goto(f"{server}/lessons?lesson={LESSON.id}&step=1")
    wait_for_app(page)
    main = _main(page)
    first = LESSON.steps[0]
    expect(main.get_by_text(f"Step 1 of {len(LESSON.steps)}: {first.title}")).to_be_visible()

    _check(page, "twelve")  # not a number: a sentence, nothing counted
    expect(main.get_by_text("'twelve' is not a number")).to_be_visible()
    ans = lessons.answer(first)
    _check(page, "3")  # wrong
    expect(main.get_by_text(f"Not quite: you predicted 3; the answer is {ans.text}.")).to_be_visible()
    expect(main.get_by_text(first.explain(ans))).to_be_visible()
    _check(page, "5")  # right
    expect(main.get_by_text(f"Right: the answer is {ans.text}.")).to_be_visible()
    assert not layout_problems(page), layout_problems(page)
    page.screenshot(path=str(SHOTS / "lessons_step.png"), full_page=True)

    with page.expect_popup() as opened:  # the step's page, with its settings, in a tab of its own
        main.get_by_role("link", name="Open this on the Architecture page").click()
    arch = opened.value
    wait_for_app(arch)
    expect(arch.get_by_text("Course MNIST CNN, two 32-filter convolutions").first).to_be_visible()
    assert "net=conv32-k3-relu_conv32-k3-relu_maxpool2" in arch.url
    arch.close()

    for i, step in enumerate(LESSON.steps[1:], start=2):
        main.get_by_role("button", name="Next step").click()
        expect(main.get_by_text(f"Step {i} of {len(LESSON.steps)}: {step.title}")).to_be_visible()
        assert page.url.endswith(f"lesson={LESSON.id}&step={i}")
        right = lessons.answer(step)
        _check(page, repr(right.value))
        expect(main.get_by_text(f"Right: the answer is {right.text}.")).to_be_visible()
    expect(main.get_by_text(f"That was the last step of “{LESSON.title}”")).to_be_visible()

    page.reload()  # the workspace cookie brings the same learner back
    wait_for_app(page)
    n = len(LESSON.steps)
    expect(main.get_by_text(f"{n} of {n} steps done, {n - 1} predicted right the first time.")).to_be_visible()
    expect(main.get_by_text("Steps: 1 ✓ · 2 ✓ · 3 ✓ · 4 ✓")).to_be_visible()
    main.get_by_text("Your progress in every lesson").click()
    expect(main.get_by_text(f"{n}/{n} steps, {n - 1} right first time")).to_be_visible()
