"""What the progress bars in an executed notebook say. The kernel's tqdm bars go to a cell's stderr
as every redraw of every bar (carriage returns, a blank line where a bar cleared itself): hundreds
of outputs a cell. Read here three ways: the newest bar of a notebook still running (the CLI shows
it), what each bar ended at (a reader copy keeps that one line a bar), and what kinds of bar ran for
how long (the CLI's log)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

BAR = re.compile(
    r"^(?P<desc>[^:\r\n]+): +\d+%\|[^|]*\| *(?P<n>\d+)/(?P<total>\d+) \[(?P<elapsed>[\d:]+)[^,\]]*"
    r"(?:, *(?P<rate>[^,\]]+))?(?:, *(?P<metrics>[^\]]+))?\]"
)


def stderr_of(cell: nbformat.NotebookNode) -> str:
    """What a cell wrote to stderr, where the kernel's progress bars go."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def final_states(stream: str) -> list[str]:
    """The last state of each bar drawn in `stream`, in the order the bars started, with any other
    line (a warning) where it came: what a terminal would have shown had no bar cleared itself.
    A bar ends where its count starts again or where a blank redraw clears the bar drawn last. A bar
    last drawn at its start says nothing (tqdm redraws at most ten times a second, so a quick one
    clears itself before its count is drawn) and is left out."""
    lines: list[str] = []
    open_bars: dict[str, tuple[int, int]] = {}  # desc -> (its line, its count)
    last = ""
    for segment in re.split(r"[\r\n]", stream):
        if segment and not segment.strip():  # a bar cleared itself (leave=False): the one drawn last ended
            open_bars.pop(last, None)
            continue
        m = BAR.match(segment.strip())
        if not m:
            if segment.strip():
                lines.append(segment.rstrip())
            continue
        desc, n = m["desc"], int(m["n"])
        at, count = open_bars.get(desc, (-1, -1))
        if at < 0 or n < count:  # a new bar, or the same description counting again
            at = len(lines)
            lines.append("")
        lines[at] = segment.strip()
        open_bars[desc], last = (at, n), desc
    return [line for line in lines if not ((m := BAR.match(line)) and m["n"] == "0")]


def latest_bar(executing: Path) -> str:
    """What the newest progress bar of a notebook papermill is running shows, ``desc n/total`` and its
    rate and metrics (a trainer's validation score, say) in brackets ("" before the first bar, or
    while papermill is halfway through saving the copy)."""
    try:
        cells = nbformat.read(executing, as_version=4).cells
    except (OSError, ValueError):
        return ""
    for cell in reversed(cells):
        for segment in reversed(re.split(r"[\r\n]", stderr_of(cell))):
            m = BAR.match(segment.strip())
            if m:
                more = ", ".join(part for part in (m["rate"], m["metrics"]) if part and "?" not in part)
                return f"{m['desc']} {m['n']}/{m['total']}" + (f" ({more})" if more else "")
    return ""


def progress_summary(nb: nbformat.NotebookNode) -> str:
    """What the progress bars of an executed notebook ran, for the CLI's log: each kind of bar
    (seed and lifter numbers dropped), how many ran and their summed time, e.g. ``hourglass x2 (10:24)``."""
    runs: dict[str, list[int]] = {}
    for cell in nb.cells:
        for line in final_states(stderr_of(cell)):
            m = BAR.match(line)
            if m:
                h, mi, se = ([0, 0] + [int(x) for x in m["elapsed"].split(":")])[-3:]
                runs.setdefault(re.sub(r" seed \d+( lifter \d+)?$", "", m["desc"]), []).append(3600 * h + 60 * mi + se)
    ranked = sorted(runs.items(), key=lambda r: -sum(r[1]))
    return ", ".join(f"{name} x{len(t)} ({sum(t) // 60}:{sum(t) % 60:02d})" for name, t in ranked)


def fold_bars(cell: nbformat.NotebookNode) -> None:
    """Replace a cell's stderr outputs by one that holds each bar's final state (:func:`final_states`),
    where the first of them was: a reader sees what trained, for how long and to what score, not
    every redraw (the book removes stderr altogether). A stream without a carriage return holds no
    redraw (tqdm starts every one with it): a reader copy's, folded already, is left as it is, since
    its bars of one description no longer show where each started (a chapter carried over from a
    committed run is folded again when the run is committed or its book built)."""
    outputs = cell.get("outputs", [])
    first = next((k for k, o in enumerate(outputs) if o.get("name") == "stderr"), None)
    if first is None or "\r" not in stderr_of(cell):
        return
    lines = final_states(stderr_of(cell))
    kept = list(outputs[:first])
    if lines:
        kept.append(nbformat.v4.new_output("stream", name="stderr", text="\n".join(lines) + "\n"))
    cell.outputs = kept + [o for o in outputs[first:] if o.get("name") != "stderr"]
