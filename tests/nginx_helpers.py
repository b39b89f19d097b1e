"""A real nginx (Debian's package) on loopback in front of an emulator, as a class server has it.

The first use installs nginx when it is missing (``apt-get update`` once, then ``apt-get install -y
nginx``), then runs it in the foreground from a temporary prefix with a config written here: no
system service, no files outside the prefix, only 127.0.0.1 ports.

One nginx serves several sites, each on its own port:

- ``buffered``: the default nginx proxy (``proxy_buffering on``), what a quick setup gets;
- ``live``: the settings the README recommends for streaming (buffering off, HTTP/1.1 upstream,
  long read timeout);
- ``dead``: an upstream where nothing listens, so nginx answers its own HTML 502 page;
- ``impatient``: ``proxy_read_timeout 1s``, so a model that takes longer to start answers 504;
- ``gzip``: nginx's defaults plus ``gzip on`` for JSON/NDJSON, a common "compress the API" setup;
- ``maintenance``: ``return 503``, nginx's own HTML 503 page (as ``limit_req`` refusing sends).

Usage::

    with Nginx(emu.url) as proxy:
        requests.get(proxy.url("live") + "/api/tags")

or, in a test module, the fixtures ``emu`` (the module's own emulator) and ``proxy`` (an nginx in
front of it), imported as kernel_helpers' fixtures are::

    from nginx_helpers import nginx_emulator, nginx_proxy  # noqa: F401 - fixtures emu, proxy
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ollama_nb.testing import Emulator

SITES = ("buffered", "live", "dead", "impatient", "gzip", "maintenance")
_install_lock = threading.Lock()

#: What the README recommends for streaming through nginx (kept here once, and checked by a test).
LIVE_SETTINGS = """\
        proxy_http_version 1.1;          # keep-alive and chunked streaming to Ollama
        proxy_set_header Connection "";
        proxy_set_header Host localhost; # Ollama on loopback answers 403 to other Host names
        proxy_buffering off;             # pass each NDJSON line on as it arrives
        gzip off;                        # gzip holds lines back until its buffers fill
        proxy_cache off;
        proxy_request_buffering off;
        proxy_read_timeout 600s;         # a model may load for minutes before its first byte
        proxy_send_timeout 600s;
        client_max_body_size 100m;       # images and blobs
"""


def nginx_binary() -> str:
    """Path to nginx, installing Debian's package the first time it is needed."""
    with _install_lock:
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if found:
            return found
        apt = shutil.which("apt-get")
        if apt is None:
            raise RuntimeError("nginx is not installed and apt-get is missing: install nginx, then run the tests again")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in ([apt, "update"], [apt, "install", "-y", "--no-install-recommends", "nginx"]):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
        found = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(found):
            raise RuntimeError("apt-get installed nginx but no nginx binary was found")
        return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(upstream: str, ports: dict[str, int], prefix: Path) -> str:
    """The nginx.conf for the four sites (see the module docstring)."""
    parts = urlsplit(upstream)
    target = f"{parts.hostname}:{parts.port}"
    dead = _free_port()  # nothing listens here
    common = "        proxy_set_header Host $host;\n"  # nginx's default: the name the student typed
    sites = {
        "buffered": f"        proxy_pass http://{target};\n" + common,
        "live": f"        proxy_pass http://{target};\n" + LIVE_SETTINGS,
        "dead": f"        proxy_pass http://127.0.0.1:{dead};\n" + common,
        "impatient": f"        proxy_pass http://{target};\n        proxy_read_timeout 1s;\n" + common,
        # A common "compress the API" setup: gzip holds output until its buffers fill.
        "gzip": f"        proxy_pass http://{target};\n        gzip on;\n        gzip_types application/x-ndjson application/json;\n" + common,
        # Down for maintenance (or limit_req refusing): nginx's own HTML 503 page.
        "maintenance": "        return 503;\n",
    }
    servers = "".join(
        f"""
    server {{
        listen 127.0.0.1:{ports[name]};
        location / {{
{body}        }}
    }}
"""
        for name, body in sites.items()
    )
    return f"""
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{servers}}}
"""


class Nginx:
    """nginx in the foreground, proxying to ``upstream`` (an emulator URL), until stopped."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.ports = {name: _free_port() for name in SITES}
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def url(self, site: str) -> str:
        return f"http://127.0.0.1:{self.ports[site]}"

    def start(self) -> Nginx:
        binary = nginx_binary()
        self._dir = tempfile.TemporaryDirectory(prefix="ollama-nb-nginx-")
        prefix = Path(self._dir.name)
        conf = prefix / "nginx.conf"
        conf.write_text(config(self.upstream, self.ports, prefix))
        check = subprocess.run([binary, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True,
                               check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the test config: {check.stderr}")
        self._proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_listening()
        return self

    def _wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.ports.values())
        while pending:
            assert self._proc is not None
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"nginx exited with {self._proc.returncode}: {err[-2000:]}")
            for port in list(pending):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    pending.discard(port)
                except OSError:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not listen on {sorted(pending)} within {timeout:g} s")
            if pending:
                # Waiting for a listener is the event itself; there is no notification to wait on.
                time.sleep(0.05)

    def error_log(self) -> str:
        if self._dir is None:
            return ""
        path = Path(self._dir.name) / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="module", name="emu")
def nginx_emulator() -> Iterator[Emulator]:
    """An emulator of the module's own: its tests queue refusals and switch the cloud state."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module", name="proxy")
def nginx_proxy(emu: Emulator) -> Iterator[Nginx]:
    """One nginx (every site) in front of ``emu`` for the whole module: starting it takes a while."""
    with Nginx(emu.url) as nginx:
        yield nginx
