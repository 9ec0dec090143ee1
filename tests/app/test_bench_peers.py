"""The bare peers of ``bench/bench_browser.py`` run and show what the bench waits for (a broken peer
would make every ratio meaningless, or hang the bench until its timeout)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

BARE = Path(__file__).resolve().parents[2] / "bench" / "bare"


def run(script: str) -> AppTest:
    at = AppTest.from_file(str(BARE / script), default_timeout=60).run()
    assert not at.exception
    return at


def captions(at: AppTest) -> list[str]:
    return [caption for image in at.get("image") for caption in image.captions]


@pytest.mark.parametrize("script", ["filter.py", "reload.py", "lab_page.py"])
def test_a_peer_shows_its_picture(script: str) -> None:
    assert any("Cameraman" in caption for caption in captions(run(script)))


def test_the_lab_page_peer_has_the_labs_widgets_and_its_map_follows_the_kernel() -> None:
    at = run("lab_page.py")
    assert [s.label for s in at.selectbox] == ["Kernel", "Padding", "Padding holds", "Sample photo"]
    assert [n.label for n in at.number_input] == ["Stride", "Cells per side", "Dilation", "Output row", "Output column"]
    assert len(at.radio) == 3 and len(at.sidebar.text_input) == 1
    assert "Sobel x on the Cameraman" in captions(at)
    at.selectbox[0].select("Sharpen").run()
    assert not at.exception
    assert "Sharpen on the Cameraman" in captions(at)
