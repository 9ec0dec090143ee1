"""What a browser test checks of the pictures a page shows: each one inside the page's own width and none drawn
over another (Inside's five saliency pictures, in five fixed-width columns, ran over a 1024x768 projector's
page and over each other's captions; :func:`tests.e2e.dom.layout_problems` measures text, not pictures)."""

from __future__ import annotations

from playwright.sync_api import Page

_PICTURES_JS = """
() => {
  const main = document.querySelector('[data-testid="stMain"] [data-testid="stMainBlockContainer"]')
    || document.querySelector('[data-testid="stMain"]');
  const room = main.getBoundingClientRect(), pad = parseFloat(getComputedStyle(main).paddingRight) || 0;
  const right = room.right - pad + 1;
  // the <img> itself and its caption: a fixed-width picture in a narrower column overflows its element's box
  const shown = [...main.querySelectorAll('[data-testid="stImage"]')].flatMap(el => {
    const img = el.querySelector('img'), name = (img && img.alt) || '(no alt)';
    return [...el.querySelectorAll('img, [data-testid="stImageCaption"]')]
      .map(part => ({box: part.getBoundingClientRect(), name: part.tagName === 'IMG' ? name : `${name}'s caption`}));
  }).filter(p => p.box.width > 0 && p.box.height > 0);
  const out = [];
  for (const p of shown)
    if (p.box.right > right) out.push(`picture "${p.name}" ends at ${p.box.right.toFixed(0)} px, the page at ${right.toFixed(0)} px`);
  for (let i = 0; i < shown.length; i++)
    for (let j = i + 1; j < shown.length; j++) {
      const a = shown[i].box, b = shown[j].box;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push(`pictures "${shown[i].name}" and "${shown[j].name}" overlap by ${w.toFixed(0)} x ${h.toFixed(0)} px`);
    }
  return out;
}
"""


def picture_problems(page: Page) -> list[str]:
    """Pictures (``st.image``, with their captions) in the main area that end past the page's right margin or
    overlap another picture, each named by its alt text."""
    return page.evaluate(_PICTURES_JS)
