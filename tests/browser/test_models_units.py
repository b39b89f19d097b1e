"""Units in the ModelBrowser read as ollama_nb/_format.py writes them: sizes, "ago" and pull progress
are the kernel's own text (the view shows what it is sent), and the one unit the view makes itself,
the ticking "expires in" countdown, equals format.expires_in on a table of times.
"""

from __future__ import annotations

import datetime as dt

from ollama_nb import _format as fmt
from ollama_nb._reply import Progress
from ollama_nb._widgets._rows import details as _details
from ollama_nb._widgets._rows import model_row as _model_row
from ollama_nb._widgets._rows import progress_dict as _progress_dict
from ollama_nb._widgets._rows import running_row as _running_row

from .lab import open_bundle_page
from .test_models_view import PAGE, set_state

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def stamp(seconds: float) -> str:
    return (NOW + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


# Offsets (seconds from now) across every branch of format.expires_in / duration.
EXPIRES = [-30, 0, 1, 9, 10, 45, 59, 60, 61, 119, 125, 600, 3599, 3600, 3660, 7322, 86_400, 2 * 86_400 + 61,
           11 * 365 * 86_400]
MODIFIED = [-5, -59, -60, -3_600 * 5, -86_400 * 3, -86_400 * 40, -86_400 * 800]
SIZES = [0, 999, 1000, 145_000_000, 2_019_393_189, 99_500_000_000, 5 * 10**12]


def test_the_view_shows_the_kernels_units_and_counts_down_as_format_does(page):
    page.clock.set_fixed_time(NOW)  # Date.now() in the page; timers still run
    open_bundle_page(page, "models", PAGE)
    models = [
        _model_row({"name": f"m{i}:latest", "size": size, "modified_at": stamp(MODIFIED[i % len(MODIFIED)]),
                    "details": {"parameter_size": "1B"}})
        for i, size in enumerate(SIZES)
    ]
    running = [_running_row({"name": f"r{i}", "size": SIZES[i % len(SIZES)], "expires_at": stamp(s)})
               for i, s in enumerate(EXPIRES)]
    set_state(page, models=models, running=running)
    host = page.locator("#host")

    shown = {row.get_attribute("data-name"): row.locator("td").all_inner_texts()
             for row in host.locator(".onb-mb-table:not(.onb-mb-ps) tbody tr").all()}
    for m in models:
        cells = shown[m["name"]]
        assert cells[1] == (fmt.size(m["size"]) if m["size"] else "–"), (m, cells)
        # "ago" is the kernel's text as of when it sent the list (its clock, not the page's)
        assert cells[5] == fmt.ago(m["modified_at"]), (m, cells)

    ps = host.locator(".onb-mb-ps tbody tr")
    want = [fmt.expires_in(r["expires_at"], now=NOW) for r in running]
    got = [ps.nth(i).locator(".onb-mb-expires").inner_text() for i in range(len(running))]
    assert got == want
    assert [ps.nth(i).locator("td").nth(1).inner_text() for i in range(len(running))] == [
        fmt.size(r["size"]) if r["size"] else "–" for r in running]

    # A second later the countdown has ticked, still as format.py counts.
    page.clock.set_fixed_time(NOW + dt.timedelta(seconds=61))
    later = [fmt.expires_in(r["expires_at"], now=NOW + dt.timedelta(seconds=61)) for r in running]
    page.wait_for_function(
        "(want) => [...document.querySelectorAll('.onb-mb-ps .onb-mb-expires')].map((e) => e.textContent).join('|') === want",
        arg="|".join(later),
    )


def test_details_and_pull_progress_show_the_kernels_text(page):
    open_bundle_page(page, "models", PAGE)
    details = _details("m:latest", {"modified_at": stamp(-86_400 * 3), "capabilities": ["completion"],
                                    "details": {"family": "llama"}})
    progress = Progress()
    progress.add({"status": "pulling abc", "digest": "sha256:abc", "total": 4_700_000_000, "completed": 1_200_000_000})
    pull = _progress_dict(progress, "m:latest")
    set_state(page, models=[_model_row({"name": "m:latest", "size": 1})], selected="m:latest", details=details,
              pulls={"m:latest": pull})
    host = page.locator("#host")
    facts = dict(zip(host.locator(".onb-mb-fact-label").all_inner_texts(), host.locator(".onb-mb-fact-value").all_inner_texts()))
    assert facts["Modified"] == details["modified_text"] == fmt.ago(details["modified_at"])
    assert pull["info_text"].startswith(f"{fmt.size(1_200_000_000)} of {fmt.size(4_700_000_000)}")
    assert host.locator(".onb-mb-pullinfo").inner_text() == pull["info_text"]
    assert host.locator(".onb-mb-layer-bytes").inner_text() == f"{fmt.size(1_200_000_000)} / {fmt.size(4_700_000_000)}"
