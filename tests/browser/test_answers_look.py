"""What a student sees of ``%%ollama`` answers in JupyterLab, light and dark: Markdown rendered,
math typeset by MathJax (and only the math), code coloured, errors readable in both themes.

Screenshots land in tests/artifacts/answers-light.png and answers-dark.png.
"""

from __future__ import annotations

from playwright.sync_api import expect

from .lab import cell_output_locator, open_notebook, run_all, screenshot, set_theme, stop_kernel, write_notebook

DECEIVING = (
    "```python\nif access != \"user\u202e \u2066# admin only\u2069 \u2066\":\n    grant()\n```\n\n"
    "Run `ls\u200b -la` then $" + "\\frac{" * 40 + "x" + "}{y}" * 40 + "$ and $\\raisebox{40em}{up}$, but $e^{i\\pi}+1=0$."
)
DOLLARS = "It costs $5 and $10, and \\\\$x\\\\$ is not math either. Euler: $e^{i\\\\pi}+1=0$ and \\\\(a<b\\\\)."

CELLS = [
    "%load_ext ollama_nb",
    "%%ollama -m markdown --chat look\nshow me everything",
    "%%ollama -m qwen3 --chat look2\nWhat is 17 * 23?",
    "from ollama_nb import Reply\n"
    "r = Reply('demo')\n"
    f"r.add({{'model': 'demo', 'message': {{'role': 'assistant', 'content': '{DOLLARS}'}}, 'done': True,"
    " 'eval_count': 9, 'eval_duration': 10**9})\n"
    "r",
    "%%ollama -m no-such-model --chat look3\nhi",
    "%ollama list",
    # An answer built to deceive and to choke MathJax (issue 24): marks, flags, notes, one formula typeset.
    "from ollama_nb import Reply\n"
    "r = Reply('demo')\n"
    f"r.add({{'model': 'demo', 'message': {{'role': 'assistant', 'content': {DECEIVING!r}}}, 'done': True}})\n"
    "r",
    "%%ollama --compare llama3.2,qwen3\nWhat is 17 * 23?",
    "%ollama pull smollm2:135m",
    "%ollama rm smollm2:135m",  # the session's emulator lists what it listed before
]


def _contrast(page, selector: str) -> float:
    """WCAG contrast of an element's text against what is behind it: the translucent backgrounds
    of it and its ancestors composited over the first opaque one, the text's alpha likewise."""
    return page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel);
          const parse = (s) => { const v = s.match(/[\\d.]+/g).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
          const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
          const layers = [];
          for (let n = el; n; n = n.parentElement) {
            const c = parse(getComputedStyle(n).backgroundColor);
            if (c[3] > 0) layers.push(c);
            if (c[3] >= 1) break;
          }
          let bg = [255, 255, 255, 1];
          for (const layer of layers.reverse()) bg = over(layer, bg);
          const fg = over(parse(getComputedStyle(el).color), bg);
          const lum = ([r, g, b]) => {
            const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          const a = lum(fg), b = lum(bg);
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector,
    )


def _compare_and_pull_line_up(page) -> None:
    """Each model's name stands over its answer (JupyterLab right-aligns table heads), in the
    answer's own type size; a download's bars start in one line, on unstriped rows."""
    compare = cell_output_locator(page, 7).locator("table.onb-cols")
    compare.scroll_into_view_if_needed()
    head, body = compare.locator("th").first, compare.locator("tbody td").first
    assert head.evaluate("(el) => getComputedStyle(el).textAlign") == "left"
    size = body.evaluate("(el) => getComputedStyle(el).fontSize")
    answer = cell_output_locator(page, 1).locator(".onb-out p").first.evaluate("(el) => getComputedStyle(el).fontSize")
    assert size == answer, (size, answer)
    pull = cell_output_locator(page, 8).locator("table.onb-pull")
    pull.scroll_into_view_if_needed()
    starts = [b["x"] for b in (bar.bounding_box() for bar in pull.locator(".onb-bar").all()) if b]
    assert len(starts) == 3 and max(starts) - min(starts) < 1, starts  # right-aligned, they were 60 px apart
    rows = pull.locator("tr").evaluate_all("(rows) => rows.map((r) => getComputedStyle(r).backgroundColor)")
    assert set(rows) == {"rgba(0, 0, 0, 0)"}, rows


def test_answers_render_typeset_and_read_well_in_both_themes(lab, page):
    write_notebook(lab.root, "look.ipynb", CELLS)
    open_notebook(page, lab.url, "look.ipynb")
    try:
        run_all(page, timeout=120_000)
        md = cell_output_locator(page, 1)
        expect(md.locator(".onb-footer")).to_contain_text("markdown ·")
        expect(md.locator("table")).to_have_count(1)
        expect(md.locator("code.language-python [class^='onb-hl-k']").first).to_be_visible()
        # Code sits on its own panel (our rule must outrank JupyterLab's own `pre` rule), with no
        # strip of JupyterLab's page colour behind each line.
        panel = md.locator("pre").first.evaluate("(el) => getComputedStyle(el).borderTopStyle")
        assert panel == "solid", panel
        behind = md.locator("pre > code").first.evaluate("(el) => getComputedStyle(el).backgroundColor")
        assert behind == "rgba(0, 0, 0, 0)", behind
        # MathJax typesets the formulas the parser found, in the HTML output itself.
        expect(md.locator(".onb-math mjx-container, .onb-math-display mjx-container").first).to_be_attached(timeout=30_000)

        think = cell_output_locator(page, 2)
        expect(think.locator("details.onb-thinking > summary")).to_have_text("Thinking")

        dollars = cell_output_locator(page, 3)
        dollars.scroll_into_view_if_needed()  # the notebook renders (and typesets) what is in view
        expect(dollars.locator("mjx-container")).to_have_count(2, timeout=30_000)  # e^{iπ} and a<b only
        expect(dollars).to_contain_text("It costs $5 and $10, and $x$ is not math either.")

        error = cell_output_locator(page, 4).locator(".onb-error")
        error.scroll_into_view_if_needed()
        expect(error).to_contain_text("not found")
        expect(cell_output_locator(page, 5).locator("table th").first).to_have_text("name")

        _compare_and_pull_line_up(page)

        deceiving = cell_output_locator(page, 6)
        deceiving.scroll_into_view_if_needed()
        expect(deceiving.locator(".onb-invisible")).to_have_count(5)
        expect(deceiving.locator(".onb-flag")).to_have_count(1)
        expect(deceiving.locator(".onb-capped")).to_have_count(2)  # the deep \frac, the raised box
        expect(deceiving.locator("mjx-container")).to_have_count(1, timeout=30_000)  # only e^{iπ}
        screenshot(page, "answers-deceiving-light")
        marks_light = _contrast(page, ".onb-out .onb-invisible")

        md.scroll_into_view_if_needed()
        screenshot(page, "answers-light")
        dollars.scroll_into_view_if_needed()
        screenshot(page, "answers-light-2")
        light = _contrast(page, ".onb-error")
        set_theme(page, "JupyterLab Dark")
        screenshot(page, "answers-dark-2")
        md.scroll_into_view_if_needed()
        screenshot(page, "answers-dark")
        dark = _contrast(page, ".onb-error")
        assert light >= 4.5 and dark >= 4.5, (light, dark)
        deceiving.scroll_into_view_if_needed()
        screenshot(page, "answers-deceiving-dark")
        marks = (marks_light, _contrast(page, ".onb-out .onb-invisible"))
        assert min(marks) >= 4.5, marks
        footer = _contrast(page, ".onb-footer")
        assert footer >= 4.5, footer
    finally:
        set_theme(page, "JupyterLab Light")
        stop_kernel(page)
