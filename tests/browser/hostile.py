"""Watchers for the payload tests: did any script run, did anything load, what does the DOM hold.

    beacon = Beacon().start()                    # a loopback server that counts requests
    guard = Guard(context, beacon)               # __pwn() in every frame; only loopback traffic
    ... render payloads ...
    guard.barrier(page)                          # waits for the canary (id 0) to run and load
    found = audit(page)                          # on* attributes, javascript:/data:text/html URLs
    clicks = click_every_link(page, guard)       # clicks every link of the outputs
    guard.assert_clean(found)

The canary is our own trusted output (``canary_cell``): its script calls ``__pwn(0)`` and its image
loads ``<beacon>/0``. Seeing both proves that this page runs scripts and loads images from outputs
(so the test can fail) and that everything rendered before it has been processed.
"""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import BrowserContext, Page

LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")

# Everything in an output area that the policies never allow (a model's own <math>/<svg> too:
# KaTeX output is marked by its own class and checked separately).
AUDIT_JS = r"""
([selector, ownStyle]) => {
  const out = { on: [], urls: [], tags: [], remote: [], styles: [], links: 0 };
  const bad = /^(javascript|vbscript|data:text\/html|data:(?!image\/(png|jpeg|gif|webp)[;,]))/;
  const norm = (v) => String(v).replace(/[\u0000-\u0020\u007f-\u00a0\u2028\u2029\ufeff]+/g, '').toLowerCase();
  const forbidden = new Set(['script','iframe','frame','frameset','object','embed','form','input','textarea',
    'select','video','audio','source','track','picture','link','style','base','meta','template','noscript',
    'applet','portal','foreignobject','animate','set','use','image','maction']);
  const urlAttrs = ['href','src','xlink:href','action','formaction','data','poster','background','srcset',
    'lowsrc','dynsrc','longdesc','cite','ping','to','values'];
  const roots = [...document.querySelectorAll(selector)];
  for (const root of roots) {
    if (root.querySelector('.onb-test-canary')) continue;  // the test's own trusted output
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const tag = el.localName;
      const inKatex = !!el.closest('.onb-math, .onb-math-display, mjx-container, .MathJax');
      // our widgets' own controls, and nbconvert's widget-state <script type=application/...>
      const chrome = ['input','select','textarea'].includes(tag) && /(^|\s)onb-/.test(el.className)
        || tag === 'script' && /^application\/(vnd\.jupyter|json)/.test(el.type)
        // nbconvert's own stub before each widget view
        || tag === 'script' && /^\s*var element = document\.getElementById\('[0-9a-f-]+'\);\s*$/.test(el.textContent)
        // the render layer's own stylesheet (chrome.STYLE), beside the boxes it styles, never inside
        || tag === 'style' && !el.closest('.onb-out') && el.textContent.trim() === ownStyle;
      if (forbidden.has(tag) && !chrome && !(inKatex && tag === 'annotation')) out.tags.push(tag);
      if ((tag === 'svg' || tag === 'math') && !inKatex) out.tags.push(tag);
      for (const a of el.attributes) {
        const name = a.name.toLowerCase();
        if (name.startsWith('on')) out.on.push(`${tag}[${name}]`);
        if (urlAttrs.includes(name) || name.endsWith(':href')) {
          const v = norm(a.value);
          if (bad.test(v)) out.urls.push(`${tag}[${name}=${a.value.slice(0, 80)}]`);
          if (name !== 'href' && name !== 'cite' && name !== 'xlink:href' && !v.startsWith('data:') && v)
            out.remote.push(`${tag}[${name}=${a.value.slice(0, 80)}]`);
        }
        if (name === 'style' && /url\s*\(|expression\s*\(|@import/i.test(a.value)) out.styles.push(`${tag}[style]`);
      }
      if (tag === 'a' && el.hasAttribute('href')) out.links++;
    }
  }
  out.roots = roots.length;
  return out;
}
"""


class _BeaconHandler(BaseHTTPRequestHandler):
    server: Beacon._Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.owner._hit(self.path, self.headers.get("Referer", ""))
        body = GIF
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")  # every page load must ask again
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_HEAD = do_OPTIONS = do_GET


class Beacon:
    """A loopback HTTP server that records every request (a payload's remote load lands here)."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        owner: Beacon

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.changed = threading.Condition()
        self._server: Beacon._Server | None = None

    def start(self) -> Beacon:
        self._server = self._Server(("127.0.0.1", 0), _BeaconHandler)
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, daemon=True, name="beacon").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/b"

    def _hit(self, path: str, referer: str) -> None:
        with self.changed:
            self.hits.append(path)
            self.changed.notify_all()

    def payload_hits(self) -> list[str]:
        """Requests other than the canary's."""
        with self.changed:
            return [h for h in self.hits if not h.startswith("/b/0")]

    def wait_for(self, path: str, count: int = 1, timeout: float = 30.0) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: sum(h == path for h in self.hits) >= count, timeout):
                raise AssertionError(f"the canary load {path} x{count} never reached the beacon: {self.hits[-5:]}")


@dataclass
class Guard:
    """Installs the flag and the network fence on a browser context, and records what they saw."""

    context: BrowserContext
    beacon: Beacon
    pwned: list[tuple[int, str]] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # requests to a host other than loopback
    link_navigations: list[str] = field(default_factory=list)  # pages opened by a click (aborted)
    main_navigations: list[str] = field(default_factory=list)
    main: Page | None = None
    popups: list[Page] = field(default_factory=list)
    clicking: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.context.expose_binding("__pwn", self._flag)
        self.context.route("**/*", self._route)
        self.context.on("page", self._on_page)

    def _flag(self, source: dict[str, Any], ident: Any) -> None:
        frame = source.get("frame")
        with self._lock:
            self.pwned.append((int(ident) if str(ident).isdigit() else -1, getattr(frame, "url", "?")))

    def _on_page(self, page: Page) -> None:
        if self.main is None or page is self.main:  # the test's own page (made before watch())
            return
        # a page a click opened: its navigation was recorded (and aborted) by _route; close it so
        # dozens of clicks do not leave dozens of renderers behind
        page.on("dialog", lambda d: (self.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
        self.popups.append(page)

    def _route(self, route: Any) -> None:
        request = route.request
        url = request.url
        host = urllib.parse.urlsplit(url).hostname or ""
        try:
            frame = request.frame
            page, top = frame.page, frame.parent_frame is None
        except Exception:
            page, top = None, True
        if self.main is not None and page is not self.main and request.is_navigation_request():
            # a page a link opened: record where it went, never let it load anything
            self.link_navigations.append(url)
            route.abort()
            return
        if request.is_navigation_request() and top and page is self.main:
            if self.clicking:
                # where a click leads: recorded, answered "204 No Content" so the page stays
                self.link_navigations.append(url)
                route.fulfill(status=204, body=b"")
                return
            self.main_navigations.append(url)
        if host in LOOPBACK or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def watch(self, page: Page) -> Page:
        self.main = page
        page.on("dialog", lambda d: (self.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
        return page

    def barrier(self, page: Page, count: int = 1, timeout: float = 180_000) -> None:
        """Wait until the canary output has run and loaded ``count`` times in this page (its script
        counts itself in ``document.body.dataset.canary`` and calls ``__pwn(0)``; its image hits
        ``/b/0``): everything rendered before it has been processed by then."""
        page.wait_for_function("(n) => Number(document.body.dataset.canary || 0) >= n", arg=count,
                               timeout=timeout, polling=100)
        self.beacon.wait_for("/b/0", count, timeout / 1000)
        while sum(1 for i, _ in self.pwned if i == 0) < count:  # the binding's call is in flight
            page.wait_for_timeout(50)

    def close_popups(self) -> None:
        for popup in self.popups:
            if not popup.is_closed():
                popup.close()
        self.popups.clear()

    def reset(self) -> None:
        """Start a new phase: forget what was seen so far (the beacon's requests too)."""
        with self._lock:
            self.pwned.clear()
        for seen in (self.dialogs, self.blocked, self.link_navigations, self.main_navigations):
            seen.clear()
        self.clicking = False
        with self.beacon.changed:
            self.beacon.hits.clear()

    def payload_flags(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(i, url) for i, url in self.pwned if i != 0]


def audit(page: Page, selector: str = ".jp-OutputArea-output") -> dict[str, Any]:
    """What the output areas hold that no policy allows (see AUDIT_JS), in the page and its frames."""
    from ollama_nb._render.chrome import STYLE

    own = STYLE.removeprefix("<style>").removesuffix("</style>").strip()
    found: dict[str, Any] = page.evaluate(AUDIT_JS, [selector, own])
    return found


def click_every_link(page: Page, guard: Guard | None = None, selector: str = ".jp-OutputArea-output") -> int:
    """Click each distinct link target inside the outputs once, the way a user would (a left
    click, no modifier). Returns the number clicked; the pages clicks open are recorded (their
    requests aborted) by the Guard and closed here."""
    count, http = page.evaluate(
        """(sel) => { const seen = new Set(); let n = 0, http = 0;
             for (const a of document.querySelectorAll(sel + ' a[href]')) {
               if (a.closest('.onb-test-canary') || seen.has(a.getAttribute('href'))) continue;
               seen.add(a.getAttribute('href')); a.dataset.onbClick = String(n++);
               if (/^https?:/i.test(a.href)) http++;
               // follow it in this page, where the Guard answers the navigation with 204 (the
               // page stays); a new tab per click would cost a renderer each
               if (a.target === '_blank') a.target = '_self'; }
             return [n, http]; }""",
        selector,
    )
    if guard is None:
        _click_marked(page, guard, count)
        return count
    # from here to the end of the phase, a navigation of the page is a click's (see _route)
    guard.clicking = True
    before = len(guard.link_navigations)
    _click_marked(page, guard, count)
    # each http(s) link clicked sends one navigation request: wait for all of them to be answered
    waited = 0
    while len(guard.link_navigations) - before < http and waited < 15_000:
        page.wait_for_timeout(50)
        waited += 50
    return count


def _click_marked(page: Page, guard: Guard | None, count: int) -> None:
    for i in range(count):
        link = page.locator(f'[data-onb-click="{i}"]')
        try:
            link.click(timeout=3000, no_wait_after=True, force=True)
        except Exception as exc:
            if "Timeout" not in str(exc) and "not visible" not in str(exc) and "outside of the viewport" not in str(exc):
                raise
            link.dispatch_event("click")
        if guard is not None:
            guard.close_popups()


def verdict(name: str, guard: Guard, found: dict[str, Any], *, lab_url: str) -> list[str]:
    """Every problem seen, as readable lines (empty = clean)."""
    problems = []
    ran: dict[int, int] = {}
    for ident, _url in guard.payload_flags():
        ran[ident] = ran.get(ident, 0) + 1
    problems += [f"{name}: payload {ident} ran script ({n}x)" for ident, n in sorted(ran.items())]
    # JupyterLab's own "leave the page?" prompt is not a payload's; alert/confirm/prompt are
    problems += [f"{name}: dialog {d}" for d in guard.dialogs if not d.startswith("beforeunload")]
    problems += [f"{name}: beacon request {h}" for h in sorted(set(guard.beacon.payload_hits()))]
    problems += [f"{name}: {key}: {v}" for key in ("on", "urls", "tags", "remote", "styles") for v in found[key]]
    problems += [f"{name}: main page navigated to {u}" for u in guard.main_navigations if not u.startswith(lab_url)]
    problems += [f"{name}: a click opened {u}" for u in guard.link_navigations
                 if not u.lower().startswith(("http://", "https://", "mailto:"))]
    return problems
