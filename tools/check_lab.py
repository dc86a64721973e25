"""Open every notebook in a real JupyterLab, in headless Chromium, as a reader of the book would
(``make lab``), and fail unless each opens on the "drpose3d" kernel without being modified: no
kernel-choice dialog, no unsaved-changes mark on its tab, and its file byte-identical afterwards.

    python tools/check_lab.py [NOTEBOOK_DIR]

JupyterLab serves a temporary copy of the notebooks (a save could not touch the checkout) on a
free local port; the kernel is the one ``make lab`` registers. Chromium: Debian's ``chromium``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from chromium import Chromium, find_binary

from drpose3d.command.reproduce import KERNELSPEC

ROOT = Path(__file__).resolve().parents[1]
WINDOW = (800, 600)  # Chromium's default headless window, which this check has always opened the lab in
BUDGET_MS = 25000  # virtual time after loading: the lab has started the kernel and drawn the notebook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wait(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def problems(dom: str, kernel: str | None) -> list[str]:
    """What a reader would see wrong in the laid-out JupyterLab page of one open notebook, whose
    session runs `kernel` (None: no session). Classes are read from elements, not from the
    page's style sheets, which name ``jp-mod-dirty`` too."""
    found = []
    if "jp-NotebookPanel" not in dom:
        found.append("no notebook panel opened")
    if re.search(r'class="[^"]*\bjp-mod-dirty\b', dom):
        found.append("marked modified as soon as it opened")
    if "Select Kernel" in dom:
        found.append("asked for a kernel")
    if kernel != KERNELSPEC["name"]:
        found.append(f"runs the kernel {kernel!r}, not {KERNELSPEC['name']!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    source = Path((argv or sys.argv[1:] or [str(ROOT / "notebooks")])[0])
    browser = find_binary()
    if browser is None:
        print("check_lab: no chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    kernel = ["-m", "ipykernel", "install", "--sys-prefix", "--name", KERNELSPEC["name"]]
    subprocess.run([sys.executable, *kernel, "--display-name", KERNELSPEC["display_name"]], check=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        lab_root = Path(tmp) / "notebooks"
        shutil.copytree(source, lab_root, ignore=shutil.ignore_patterns(".*"))
        before = {p.name: _digest(p) for p in lab_root.glob("*.ipynb")}
        port, token = _free_port(), secrets.token_hex(16)
        settings = Path(tmp) / "settings"  # a fresh workspace: no layout of an earlier session restored
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={lab_root}",
             f"--LabApp.workspaces_dir={settings}", "--LabApp.news_url=", "--ServerApp.ip=127.0.0.1",
             "--ServerApp.allow_root=True"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        chromium = Chromium(browser, timeout=180)  # one browser, a fresh tab a notebook
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(f"{base}/api/status?token={token}", 60)
            for name in sorted(before):
                url = f"{base}/lab/tree/{name}?token={token}&reset"
                dom = chromium.visit(url, *WINDOW, BUDGET_MS).dom
                sessions = json.loads(urllib.request.urlopen(f"{base}/api/sessions?token={token}").read())
                kernel = next((x["kernel"]["name"] for x in sessions if x["path"].endswith(name)), None)
                found = problems(dom, kernel)
                print(f"{'FAIL' if found else 'ok  '} {name}" + (": " + "; ".join(found) if found else ""))
                failures += bool(found)
        finally:
            chromium.close()
            server.terminate()
            server.wait(timeout=30)
        changed = sorted(n for n, d in before.items() if _digest(lab_root / n) != d)
        for name in changed:
            print(f"FAIL {name}: its file changed while it was open")
        failures += len(changed)
    print(f"{len(before)} notebooks opened in JupyterLab, {failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
