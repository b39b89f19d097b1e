"""Keeps ``./dev lab``'s working copies of the teaching notebooks, so the tracked ones stay clean.

Running a notebook saves its outputs and widget state into it; JupyterLab therefore opens copies.
A missing copy is made; a copy nobody changed since it was made follows the tracked file; an edited
copy is kept, and this says where the updated one is. What was copied is remembered in
``.copied.json`` in the working folder.

Usage: python devtools/sync_notebooks.py notebooks .lab/notebooks
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import sys


def digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync(src: pathlib.Path, dst: pathlib.Path) -> list[str]:
    """Bring ``dst`` up to date with ``src``; returns a line for each edited copy that was kept."""
    dst.mkdir(parents=True, exist_ok=True)
    record = dst / ".copied.json"
    copied: dict[str, str] = json.loads(record.read_text()) if record.exists() else {}
    kept: list[str] = []
    for tracked in sorted(p for p in src.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        rel = tracked.relative_to(src).as_posix()
        copy, new = dst / rel, digest(tracked)
        if copy.exists():
            mine = digest(copy)
            if copied.get(rel) == new or mine == new:
                copied[rel] = new
                continue  # up to date, or edited while the tracked file did not change
            if mine != copied.get(rel):
                kept.append(f"kept your edited {copy}; the updated one is {tracked}")
                continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tracked, copy)
        copied[rel] = new
    record.write_text(json.dumps(copied, indent=1, sort_keys=True))
    return kept


if __name__ == "__main__":
    for line in sync(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])):
        print(f"\033[1m[ollama_nb]\033[0m {line}", file=sys.stderr)
