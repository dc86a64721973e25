"""One headless Chromium for a whole check, driven over its DevTools pipe.

Starting Chromium costs about 2.5 s of CPU on 2 cores, and the page check started it twice a page (once
for the DOM, once for the screenshot): 40 starts, about 120 s, for a 20-page book. Here one browser opens
every page in turn, each in a fresh tab. A visit gives the loaded page the virtual-time budget that the
command line's ``--virtual-time-budget`` gave (timers fire without waiting; a pending request holds the
clock), so the page's scripts and Plotly's drawing have run when its DOM is read.

The pipe (``--remote-debugging-pipe``) is the browser's fds 3 and 4, one JSON message per NUL-ended
record: no port to find and no WebSocket library. Chromium: Debian's ``chromium`` package.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-unsafe-swiftshader",  # software WebGL, for the 3D figures
]
MAX_HEIGHT = 16384  # Chromium's largest surface: a longer page's screenshot stops there


def find_binary() -> str | None:
    """The Chromium on PATH (Debian names it ``chromium``, some others ``chromium-browser``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _above_4(fd: int) -> int:
    """`fd` moved to a number above 4, so that putting the pipe's ends on 3 and 4 cannot overwrite one."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5)
    os.close(fd)
    return moved


class ChromiumError(RuntimeError):
    """The browser exited, stopped answering, or answered a command with an error."""


@dataclass
class Visit:
    """One page as the browser left it after its budget: the DOM, and what its console said."""

    dom: str
    #: (message, source URL) of each console call, uncaught exception and browser log entry (a failed
    #: request), in order; an exception reads ``Uncaught <error>``, as Chromium's own log prints it
    console: list[tuple[str, str]]


class Chromium:
    """A headless Chromium started once: :meth:`visit` each page, then :meth:`close` (or use ``with``)."""

    def __init__(self, binary: str, timeout: float = 120.0) -> None:
        self.timeout = timeout  # seconds one visit may take before the browser counts as hung
        self._profile = tempfile.TemporaryDirectory(prefix="drpose3d-chromium-")
        commands, self._write = map(_above_4, os.pipe())
        self._read, answers = map(_above_4, os.pipe())
        # the browser reads commands on fd 3 and answers on fd 4: a small Python moves the pipe's ends there and
        # becomes the browser (sh's redirections stop at fd 9; a preexec_fn would run Python between fork and
        # exec, unsafe beside the check's server thread)
        move = "import os,sys; a,b=map(int,sys.argv[1:3]); os.dup2(a,3); os.dup2(b,4); os.close(a); os.close(b); "
        move += "os.execvp(sys.argv[3], sys.argv[3:])"
        own = [f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe"]
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", move, str(commands), str(answers), binary, *FLAGS, *own],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(commands, answers),
        )
        os.close(commands)
        os.close(answers)
        self._buffer = b""
        self._id = 0
        self._events: list[dict] = []  # events read while waiting for something else, oldest first
        self._deadline = float("inf")

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._deadline = time.monotonic() + 10
                self._send("Browser.close")
            except (ChromiumError, OSError):
                self._proc.kill()
        self._proc.wait(timeout=30)
        os.close(self._read)
        os.close(self._write)
        self._profile.cleanup()

    def visit(self, url: str, width: int, height: int, budget_ms: int, screenshot: Path | None = None) -> Visit:
        """Open `url` in a fresh `width` x `height` tab, let `budget_ms` of virtual time pass once it has
        loaded, and read its DOM; with `screenshot`, grow the tab to the page's height and save a PNG."""
        self._deadline = time.monotonic() + self.timeout
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        tab = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log"):
                self._send(f"{domain}.enable", tab=tab)
            self._resize(tab, width, height)
            self._send("Page.navigate", {"url": url}, tab)
            self._wait_for("Page.loadEventFired", tab)
            self._advance(tab, budget_ms)
            dom = str(self._evaluate(tab, "document.documentElement.outerHTML"))
            if screenshot is not None:
                full = int(self._evaluate(tab, "document.documentElement.scrollHeight"))
                self._resize(tab, width, min(max(full, height), MAX_HEIGHT))
                self._advance(tab, 300)  # the charts lay out again at the new size
                png = self._send("Page.captureScreenshot", {"format": "png"}, tab)["data"]
                screenshot.write_bytes(base64.b64decode(png))
            return Visit(dom, self._console(tab))
        finally:
            if self._proc.poll() is None:  # a browser that died has no tab to close
                self._deadline = time.monotonic() + 10  # a page that ran out of time still gets its tab closed
                self._send("Target.closeTarget", {"targetId": target})
            self._events = [e for e in self._events if e.get("sessionId") != tab]

    def _advance(self, tab: str, budget_ms: int) -> None:
        policy = {"policy": "pauseIfNetworkFetchesPending", "budget": budget_ms}
        self._send("Emulation.setVirtualTimePolicy", policy, tab)
        self._wait_for("Emulation.virtualTimeBudgetExpired", tab)

    def _resize(self, tab: str, width: int, height: int) -> None:
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self._send("Emulation.setDeviceMetricsOverride", metrics, tab)

    def _evaluate(self, tab: str, expression: str) -> object:
        answer = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, tab)
        if "exceptionDetails" in answer:
            raise ChromiumError(f"{expression}: {answer['exceptionDetails'].get('exception', {}).get('description')}")
        return answer["result"].get("value")

    def _send(self, method: str, params: dict | None = None, tab: str | None = None) -> dict:
        """Run one DevTools command (in `tab`, else in the browser) and return its result."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}} | ({"sessionId": tab} if tab else {})
        try:
            os.write(self._write, json.dumps(message).encode() + b"\0")
        except BrokenPipeError as err:
            raise ChromiumError(f"chromium exited (code {self._proc.wait(timeout=30)})") from err
        while True:
            answer = self._next()
            if "id" not in answer:
                self._events.append(answer)
            elif answer["id"] != self._id:
                continue  # the late answer to a command that ran out of time
            elif "error" in answer:
                raise ChromiumError(f"{method}: {answer['error'].get('message')}")
            else:
                return answer.get("result", {})

    def _wait_for(self, method: str, tab: str) -> None:
        """Block until `tab` sends the event `method` (it may already have)."""
        for i, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == tab:
                del self._events[i]
                return
        while True:
            event = self._next()
            if event.get("method") == method and event.get("sessionId") == tab:
                return
            self._events.append(event)

    def _next(self) -> dict:
        """The browser's next message, an answer or an event, by the visit's deadline."""
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise ChromiumError(f"no answer from chromium within {self.timeout:.0f} s")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise ChromiumError(f"chromium exited (code {self._proc.poll()})")
            self._buffer += chunk
        record, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(record)

    def _console(self, tab: str) -> list[tuple[str, str]]:
        said = []
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if event.get("sessionId") != tab:
                continue
            if method == "Runtime.consoleAPICalled":
                words = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
                frames = params.get("stackTrace", {}).get("callFrames") or [{}]
                said.append((" ".join(words), frames[0].get("url", "")))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                error = details.get("exception", {}).get("description", "").split("\n")[0]
                said.append((f"{details.get('text', 'Uncaught')} {error}".strip(), details.get("url", "")))
            elif method == "Log.entryAdded":
                said.append((params["entry"].get("text", ""), params["entry"].get("url", "")))
        return said
