"""The committed widget bundles (ollama_nb/_widgets/static/) are exactly what js/ builds, and
they load nothing from the network.

Rebuilding needs Node + npm. Without them this test fails, since a stale bundle would ship
silently.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess

import pytest

from ollama_nb._widgets._assets import STATIC, css, esm

ROOT = pathlib.Path(__file__).resolve().parents[1]
JS = ROOT / "js"
WIDGETS = ("chat", "models")


def _node() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if not p)
    pytest.fail(f"{missing} not found: cannot check that ollama_nb/_widgets/static/ matches js/. Install Node >= 18.")


def test_assets_exist():
    for name in WIDGETS:
        assert esm(name) == STATIC / f"{name}.js"
        assert esm(name).is_file(), f"missing {esm(name)}: run `npm ci && npm run build` in js/"
        assert css(name).is_file(), f"missing {css(name)}: run `npm ci && npm run build` in js/"


@pytest.mark.timeout(120)
def test_committed_bundle_is_fresh(tmp_path):
    node, npm = _node()
    src = tmp_path / "js"
    shutil.copytree(JS, src, ignore=shutil.ignore_patterns("node_modules"))
    # markdown.js imports the render layer's allowlist (../ollama_nb/_render/policy.json)
    (tmp_path / "ollama_nb" / "_render").mkdir(parents=True)
    shutil.copy(ROOT / "ollama_nb" / "_render" / "policy.json", tmp_path / "ollama_nb" / "_render")
    run = dict(cwd=src, check=True, capture_output=True, text=True, timeout=100)
    try:
        # --ignore-scripts: esbuild finds its platform binary without its postinstall step
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], **run
        )
        out = tmp_path / "out"
        subprocess.run([node, "build.mjs", "--outdir", str(out)], **run)
    except subprocess.CalledProcessError as e:
        pytest.fail(f"{' '.join(e.cmd)} failed:\n{e.stdout}\n{e.stderr}")
    built = {p.name: p.read_bytes() for p in out.iterdir()}
    committed = {p.name: p.read_bytes() for p in STATIC.iterdir() if p.is_file()}
    assert sorted(built) == sorted(committed), "the set of built files differs from static/"
    stale = [name for name in built if built[name] != committed[name]]
    assert not stale, (
        f"ollama_nb/_widgets/static/{', '.join(stale)} out of date: "
        "run `npm ci && npm run build` in js/ and commit the result"
    )


# esbuild hoists a module's static imports to the top, so a self-contained bundle starts with
# none; dynamic import() and any import of a URL (a CDN) are not allowed anywhere.
_STATIC_IMPORT = re.compile(rb"""\s*import\b""")
_DYNAMIC_IMPORT = re.compile(rb"""\bimport\s*\(""")
_URL_IMPORT = re.compile(rb"""(?:\bimport\s*\(?|\bfrom|@import)\s*(?:url\()?\s*["'`]?(?:https?:)?//""")


@pytest.mark.parametrize("name", WIDGETS)
def test_bundle_loads_nothing_from_the_network(name):
    js = esm(name).read_bytes()
    assert not _URL_IMPORT.search(js), f"{name}.js imports from a URL (a CDN?)"
    assert not _STATIC_IMPORT.match(js), f"{name}.js is not self-contained: {js[:120]!r}"
    m = _DYNAMIC_IMPORT.search(js)
    assert m is None, f"{name}.js has a dynamic import: {js[max(0, m.start() - 40):m.end() + 60]!r}"
    style = css(name).read_bytes()
    assert not _URL_IMPORT.search(style), f"{name}.css @imports from a URL"
    assert not re.search(rb"url\(\s*[\"']?(?:https?:)?//", style), f"{name}.css loads a URL"
