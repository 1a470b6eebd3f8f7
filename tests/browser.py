"""Pages opened in a real browser: Playwright driving Debian's Chromium (`make setup` installs
it), as a reader's browser would show them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def browser() -> Iterator[Browser]:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is missing: `make setup` installs Debian's chromium package"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=found, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def evaluate(
    chromium: Browser, page: Path, script: str, width: int = 1280, media: str = "screen"
) -> object:
    """Open `page` at `width` CSS pixels in `media` ("screen" or "print") and run `script`
    (a JavaScript function) in it."""
    tab = chromium.new_page(viewport={"width": width, "height": 900})
    try:
        tab.emulate_media(media=media)
        tab.goto(page.as_uri())
        return tab.evaluate(script)
    finally:
        tab.close()


#: Text of every chart that overlaps other text or leaves its drawing, per chart.
CHART_TEXT_PROBLEMS = """() => {
  const problems = [];
  const visible = (t) => t.textContent.trim() && !t.closest('[opacity="0"]')
      && getComputedStyle(t).opacity !== '0' && getComputedStyle(t).visibility !== 'hidden';
  document.querySelectorAll('figure.chart').forEach((figure) => {
    const svg = figure.querySelector('.plot svg');
    if (!svg) { problems.push([figure.id, 'no drawing']); return; }
    const frame = svg.getBoundingClientRect();
    const boxes = Array.from(svg.querySelectorAll('text')).filter(visible).map((t) => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom};
    });
    boxes.forEach((a, i) => {
      if (a.l < frame.left - 1 || a.r > frame.right + 1 || a.t < frame.top - 1
          || a.b > frame.bottom + 1) {
        problems.push([figure.id, 'leaves the drawing: ' + a.text]);
      }
      boxes.slice(i + 1).forEach((b) => {
        const w = Math.min(a.r, b.r) - Math.max(a.l, b.l);
        const h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
        if (w > 1 && h > 1) { problems.push([figure.id, a.text + ' over ' + b.text]); }
      });
    });
  });
  return {charts: document.querySelectorAll('figure.chart').length, problems: problems};
}"""

#: Every word of every table cell that a line break splits (the word's text occupies two
#: lines), with the cell's text.
SPLIT_WORDS = r"""() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const split = [];
  let cells = 0;
  document.querySelectorAll('td, th').forEach((cell) => {
    if (!cell.getClientRects().length) { return; }  // not displayed (a closed details)
    cells += 1;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /[\p{L}\p{M}\p{N}]+/gu;
      let m;
      while ((m = re.exec(node.data)) !== null) {
        if (m[0].length < 2) { continue; }
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects())
            .filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (lines.size > 1) { split.push([m[0], cell.textContent.trim().slice(0, 80)]); }
      }
    }
  });
  return {cells: cells, split: split};
}"""

#: Every value a page shows with its published key: [key, scale, shown text, its row's text].
SHOWN_VALUES = """() => Array.from(document.querySelectorAll('[data-value-key]')).map((e) => [
  e.dataset.valueKey, Number(e.dataset.scale || 0), e.textContent.trim(),
  (e.closest('tr, li') || e).textContent.replace(/\\s+/g, ' ').trim()])"""
