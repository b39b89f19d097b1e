"""Static checks of the teaching notebooks in notebooks/ (nbval runs them; see README's test command).

Each notebook must be safe to share and safe to re-run: no API key or Bearer token, no absolute
path or hard-coded loopback host, outputs stripped, the ``nbval-ignore-output`` tag on every cell
whose output is model text (or depends on the server), and no reliance on what another notebook or
an earlier run left behind (files, variables, models).
"""

from __future__ import annotations

import json
import pathlib
import re

import nbformat
import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
IGNORE = "nbval-ignore-output"

EXPECTED = [
    "01_first_steps.ipynb",
    "02_streaming_and_stats.ipynb",
    "03_conversations_and_prompts.ipynb",
    "04_structured_output_and_tools.ipynb",
    "05_models.ipynb",
    "06_chat_widget.ipynb",
    "07_compare_and_embed.ipynb",
    "08_teachers.ipynb",
    "09_errors_and_context.ipynb",
]

# What a secret or a machine-specific value looks like in a notebook's JSON text.
SECRETS = [
    re.compile(r"Bearer\s+(?!\$)[A-Za-z0-9._~+/=-]{8,}"),  # a literal token ("Bearer $OLLAMA_API_KEY" is fine)
    re.compile(r"\b[0-9a-f]{32}\.[A-Za-z0-9_-]{20,}"),  # the shape of an ollama.com API key
    re.compile(r"\bsk-[A-Za-z0-9]{16,}"),
    re.compile(r"""OLLAMA_API_KEY["']?\]?\s*=\s*["'][^"'$]"""),  # assigning a literal key
    re.compile(r"""api_key\s*=\s*["'][^"']+["']"""),
    re.compile(r"""["']Authorization["']\s*:\s*["']"""),
]
ABSOLUTE = re.compile(r"(?<![\w.])(/root\b|/home/|/work/|/Users/|/tmp/|[A-Za-z]:\\\\)")
HOSTS = re.compile(r"\b(127\.0\.0\.1|localhost|0\.0\.0\.0)\s*:\s*\d+")

# Source that talks to a model: its cell's output is model text (or server-dependent), so nbval
# must not compare it.
MODEL_CALL = re.compile(
    r"\.(chat|generate|embed|send)\(|%%ollama|^%ollama (doctor|list|ps|show|pull|history|embed)"
    r"|ChatWidget\(|ModelBrowser\(",
    re.M,
)
# Reading a file: allowed only for a file the same notebook writes first.
READS = re.compile(r"""(?:open|read_text|read_bytes|imread|Image\.open|np\.load|read_csv|read_json)\(\s*["']([^"']+)["']""")
WRITES = re.compile(r"""(?:open\(\s*["']([^"']+)["']\s*,\s*["'][wa])|(?:["']([^"']+)["']\)?\.write_)|savefig\(\s*["']([^"']+)["']""")
IMAGE_PATH = re.compile(r"--image\s+(\S*[./]\S*)")


def load(path: pathlib.Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def test_the_nine_notebooks_are_there() -> None:
    assert [p.name for p in PATHS] == EXPECTED


@pytest.fixture(params=PATHS, ids=[p.name for p in PATHS])
def notebook(request: pytest.FixtureRequest) -> tuple[pathlib.Path, nbformat.NotebookNode]:
    return request.param, load(request.param)


def test_valid_and_python(notebook) -> None:
    _path, nb = notebook
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "start with a title"


def test_no_key_no_token(notebook) -> None:
    path, _ = notebook
    text = path.read_text()
    for pattern in SECRETS:
        found = pattern.search(text)
        assert not found, f"{path.name}: looks like a secret: {found.group(0)[:40]!r}"


def test_no_absolute_path_no_hardcoded_host(notebook) -> None:
    path, _ = notebook
    text = path.read_text()
    found = ABSOLUTE.search(text)
    assert not found, f"{path.name}: absolute path {found.group(0)!r}"
    found = HOSTS.search(text)
    assert not found, f"{path.name}: hard-coded host {found.group(0)!r}; read OLLAMA_HOST instead"


def test_models_come_from_the_environment(notebook) -> None:
    """The chat model is never hard-coded as the only option: it comes from OLLAMA_NB_MODEL."""
    path, nb = notebook
    source = "\n".join(c.source for _, c in code_cells(nb))
    assert 'os.environ.get("OLLAMA_NB_MODEL", "llama3.2")' in source, path.name
    for literal in re.findall(r"""\.(?:chat|generate|embed)\(\s*["']([^"']+)["']""", source):
        assert literal == "no-such-model", f"{path.name}: model {literal!r} is hard-coded; use a variable"
    for flag in re.findall(r"(?:-m|--model)\s+([^\s{$]\S*)", source):
        pytest.fail(f"{path.name}: %%ollama -m {flag} hard-codes a model; use -m {{MODEL}}")


def test_outputs_stripped(notebook) -> None:
    """Committed notebooks carry no outputs or execution counts (nbval then checks that every
    untagged cell prints nothing, and nothing stale is shown to a reader)."""
    path, nb = notebook
    for i, cell in code_cells(nb):
        assert cell.execution_count is None, f"{path.name} cell {i}: execution_count set"
        assert cell.outputs == [], f"{path.name} cell {i}: has saved outputs"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state"


def test_model_text_cells_are_tagged(notebook) -> None:
    path, nb = notebook
    for i, cell in code_cells(nb):
        if MODEL_CALL.search(cell.source):
            tags = cell.metadata.get("tags", [])
            assert IGNORE in tags, f"{path.name} cell {i} talks to a model but lacks the {IGNORE} tag:\n{cell.source}"


def test_check_cells_are_not_tagged(notebook) -> None:
    """A cell of asserts stays compared by nbval, so it must also stay silent when all is well."""
    path, nb = notebook
    for i, cell in code_cells(nb):
        lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if lines and all(ln.lstrip().startswith("assert ") or ln.startswith((" ", ")", "]")) for ln in lines):
            assert IGNORE not in cell.metadata.get("tags", []), f"{path.name} cell {i}: checks must not be tagged"


def test_each_notebook_has_checks(notebook) -> None:
    path, nb = notebook
    asserts = sum(c.source.count("assert ") for _, c in code_cells(nb))
    assert asserts >= 2, f"{path.name}: claims are checked by asserts; found {asserts}"


def test_self_sufficient(notebook) -> None:
    """No notebook reads a file it did not write itself, or a name it did not define; the first
    code cells set up what the rest uses."""
    path, nb = notebook
    written: set[str] = set()
    for i, cell in code_cells(nb):
        for groups in WRITES.findall(cell.source):
            written.update(g for g in groups if g)
        for name in READS.findall(cell.source) + IMAGE_PATH.findall(cell.source):
            assert name in written, f"{path.name} cell {i} reads {name!r}, which this notebook does not write"
    source = "\n".join(c.source for _, c in code_cells(nb))
    for other in EXPECTED:
        assert other not in source, f"{path.name} refers to {other}: notebooks must not depend on each other"
    if "%ollama" in source or "%%ollama" in source:
        first_magic = next(i for i, c in code_cells(nb) if "ollama" in c.source and "%" in c.source)
        load_ext = next((i for i, c in code_cells(nb) if "%load_ext ollama_nb" in c.source), None)
        assert load_ext is not None and load_ext <= first_magic, f"{path.name}: %load_ext ollama_nb comes first"


def test_first_notebook_says_which_server() -> None:
    nb = load(NOTEBOOKS / EXPECTED[0])
    first = code_cells(nb)[0][1].source.splitlines()
    assert first[:2] == ["%load_ext ollama_nb", "%ollama doctor"]


def test_notebook_json_is_tidy(notebook) -> None:
    """One cell id per cell, no trailing blank lines: what `git diff` shows stays readable."""
    path, nb = notebook
    ids = [c.get("id") for c in nb.cells]
    assert len(set(ids)) == len(ids) and all(ids)
    raw = json.loads(path.read_text())
    assert raw["nbformat"] == 4
    for cell in nb.cells:
        assert cell.source == cell.source.strip("\n"), f"{path.name}: blank lines around a cell"


@pytest.mark.kernel
def test_models_notebook_runs_twice_and_leaves_the_list_as_it_found_it(emu) -> None:
    """05 pulls, copies and deletes models: run it twice on one server, in fresh kernels, as a
    class re-running it would. Both runs pass and the server's model list ends where it started."""
    import os

    from nbclient import NotebookClient

    start = sorted(emu.model_names())
    env = {**os.environ, "OLLAMA_HOST": emu.url, "OLLAMA_NB_MODEL": "llama3.2"}
    for _ in range(2):
        nb = load(NOTEBOOKS / "05_models.ipynb")
        NotebookClient(nb, timeout=60, kernel_name="python3").execute(env=env)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, errors
        assert sorted(emu.model_names()) == start
    pulls = [r for r in emu.requests if r.path == "/api/pull"]
    assert len(pulls) == 4  # two per run: %ollama pull, then client.pull
