"""The claims as a forest plot: one row per claim, each run's relative effect with its 95 % interval
beside the paper's value. Written as a self-contained SVG (no script, no library): the book's front
page is Markdown, and the same picture serves the claims chapter and the README.
"""

from __future__ import annotations

import json
from pathlib import Path

from drpose3d.book.ledger import EFFECT_REL_CI95, EFFECT_REL_PCT, PAPER_REL_PCT, STATEMENT, VERDICT, ledger
from drpose3d.book.results import COMMIT, CREATED, results_folder
from drpose3d.markup import text

#: One colour per run, in the order given (colour-blind-safe: blue, orange, green, purple).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
PAPER_COLOUR = "#222222"
_ROW, _TOP, _LEFT, _PLOT, _RIGHT = 32, 56, 250, 330, 150
#: The verdicts as the plot's right column writes them, one line per run in the run's colour.
_SHORT = {"reproduced in direction only": "direction only"}
#: How the other world's committed run is labelled: its folder under ``runs/`` follows.
_COMMITTED = "committed runs/"


def beside_committed(source: str | Path, runs: Path) -> dict[str, list[dict]]:
    """The ledger of the run in `source` and, when one is committed under `runs`, that of the same
    preset on the other world (the generated one beside the CMU motion, and the reverse)."""
    source = Path(source)
    rows = ledger(source)
    ran = next((r for r in rows if r["dataset"]), None)
    if ran is None:
        return {"this run": rows}
    ledgers = {f"this run ({ran['dataset']}, {ran['preset']})": rows}
    other = runs / (ran["preset"] if ran["dataset"] == "cmu" else f"{ran['preset']}-cmu")
    if other.is_dir() and other.resolve() != source.resolve() and any(results_folder(other).glob("*.json")):
        ledgers[f"{_COMMITTED}{other.name}"] = ledger(other)
    return ledgers


def ran_at(folder: Path) -> str:
    """The commits and days at which a committed run's chapters ran: the run drawn beside this one
    may predate the code that made this one, and the reader should know which to compare."""
    made = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(results_folder(folder).glob("*.json"))]
    commits = sorted({str(m.get(COMMIT) or "")[:7] for m in made} - {""})
    days = sorted({str(m.get(CREATED) or "")[:10] for m in made} - {""})
    if not commits or not days:
        return ""
    when = f"on {days[0]}" if len(days) == 1 else f"from {days[0]} to {days[-1]}"
    return f"ran at {' and '.join(commits)} {when}"


def drawn(ledgers: dict[str, list[dict]], runs: Path | None = None) -> str:
    """The forest plot's runs for its caption (Markdown, inert), each with its number of seeds and, for
    the other world's committed run under `runs`, where and when it ran: the plot may draw that run
    beside this one, so the page's own seeds and commit do not describe it."""
    drawn_runs = []
    for label, rows in ledgers.items():
        seeds = max((len(r["values"]) for r in rows), default=0)
        made = ran_at(runs / label.removeprefix(_COMMITTED)) if runs and label.startswith(_COMMITTED) else ""
        # a label names the data
        drawn_runs.append(f"{text(label)}, {seeds} seed{'' if seeds == 1 else 's'}" + (f" ({made})" if made else ""))
    return "Dots and lines: " + "; ".join(drawn_runs) + "."


def _scale(core: list[float], reach: list[float]) -> tuple[float, float]:
    """The axis: zero, every paper value and every run's mean (`core`) in view; the intervals'
    ends (`reach`) at most half the core's span again beyond it. With two seeds an interval can be
    a hundred times wider than any effect: drawn whole, it would squeeze every other row to a dot."""
    lo, hi = min(core), max(core)
    pad = 0.5 * max(hi - lo, 10.0)
    lo, hi = max(min(reach, default=lo), lo - pad), min(max(reach, default=hi), hi + pad)
    span = max(hi - lo, 1.0)
    return lo - 0.05 * span, hi + 0.05 * span


def forest_svg(ledgers: dict[str, list[dict]], title: str = "Every claim: relative effect and 95 % interval") -> str:
    """`ledgers`: run label -> ledger rows (:func:`drpose3d.book.ledger.ledger`), the same claims in
    the same order. Effects in % of their control (C12: points); the paper's value as a black
    diamond; a run's interval as a line, its mean as a dot; a claim a run did not run is left empty."""
    names = [r["name"] for r in next(iter(ledgers.values()))]
    rows_all = [r for rows in ledgers.values() for r in rows]
    core = [0.0] + [v for r in rows_all for v in (r[EFFECT_REL_PCT], r[PAPER_REL_PCT]) if v is not None]
    lo, hi = _scale(core, [v for r in rows_all for v in r[EFFECT_REL_CI95] or ()])

    def x(v: float) -> float:
        return _LEFT + (v - lo) / (hi - lo) * _PLOT

    height = _TOP + _ROW * len(names) + 60
    width = _LEFT + _PLOT + _RIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'font-family="sans-serif" font-size="13" role="img" aria-label="{text(title)}">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{text(title)}</text>',
        f'<line x1="{x(0):.1f}" y1="{_TOP - 8}" x2="{x(0):.1f}" y2="{_TOP + _ROW * len(names)}" stroke="#999" '
        'stroke-dasharray="3,3"/>',
    ]
    offsets = [(k - (len(ledgers) - 1) / 2) * 11 for k in range(len(ledgers))]
    for i, name in enumerate(names):
        y = _TOP + _ROW * i + _ROW / 2
        if i % 2 == 0:
            out.append(f'<rect x="0" y="{y - _ROW / 2:.1f}" width="{width}" height="{_ROW}" fill="#f4f4f4"/>')
        first = next(iter(ledgers.values()))[i]
        label = first[STATEMENT].split(" (")[0]
        label = label if len(label) <= 34 else label[:33] + "…"
        out.append(f'<text x="8" y="{y + 4:.1f}"><tspan font-weight="bold">{text(name)}</tspan> {text(label)}</text>')
        if first[PAPER_REL_PCT] is not None:
            px, d = x(first[PAPER_REL_PCT]), 5
            out.append(
                f'<path d="M{px:.1f},{y - d:.1f} L{px + d:.1f},{y:.1f} L{px:.1f},{y + d:.1f} L{px - d:.1f},{y:.1f} Z" '
                f'fill="{PAPER_COLOUR}"><title>paper: {first[PAPER_REL_PCT]:+.1f}</title></path>'
            )
        for k, rows in enumerate(ledgers.values()):
            r, colour, yk = rows[i], COLOURS[k % len(COLOURS)], y + offsets[k]
            verdict = _SHORT.get(r[VERDICT], r[VERDICT])
            out.append(
                f'<text x="{_LEFT + _PLOT + 12}" y="{yk + 4:.1f}" fill="{colour}" font-size="11">{verdict}</text>'
            )
            if r[EFFECT_REL_PCT] is None:
                continue
            if r[EFFECT_REL_CI95]:
                a, b = r[EFFECT_REL_CI95]
                out.append(f'<line x1="{x(max(a, lo)):.1f}" y1="{yk:.1f}" x2="{x(min(b, hi)):.1f}" y2="{yk:.1f}" '
                           f'stroke="{colour}" stroke-width="2"><title>95 % interval {a:+.1f} to {b:+.1f}</title>'
                           "</line>")  # fmt: skip
                if a < lo:
                    out.append(_arrow(x(lo), yk, -1, colour))
                if b > hi:
                    out.append(_arrow(x(hi), yk, 1, colour))
            out.append(
                f'<circle cx="{x(r[EFFECT_REL_PCT]):.1f}" cy="{yk:.1f}" r="4" fill="{colour}"><title>'
                f"{text(r[EFFECT_REL_PCT])}</title></circle>"
            )
    base = _TOP + _ROW * len(names)
    out.append(f'<line x1="{_LEFT}" y1="{base}" x2="{_LEFT + _PLOT}" y2="{base}" stroke="#333"/>')
    for tick in _ticks(lo, hi):
        out.append(f'<line x1="{x(tick):.1f}" y1="{base}" x2="{x(tick):.1f}" y2="{base + 5}" stroke="#333"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{base + 18}" text-anchor="middle">{tick:+g}</text>')
    out.append(
        f'<text x="{_LEFT + _PLOT / 2}" y="{base + 36}" text-anchor="middle">relative effect, % of the control '
        "(C12: points)</text>"
    )
    legend = [(PAPER_COLOUR, "paper (Human3.6M)", "diamond")] + [
        (COLOURS[k % len(COLOURS)], label, "dot") for k, label in enumerate(ledgers)
    ]
    lx = 8
    for colour, label, shape in legend:
        mark = (
            f'<circle cx="{lx + 5}" cy="38" r="4" fill="{colour}"/>'
            if shape == "dot"
            else f'<path d="M{lx + 5},33 L{lx + 10},38 L{lx + 5},43 L{lx},38 Z" fill="{colour}"/>'
        )
        out.append(mark + f'<text x="{lx + 14}" y="42">{text(label)}</text>')
        lx += 24 + 7.5 * len(label)
    out.append(f'<text x="{_LEFT + _PLOT + 12}" y="{_TOP - 8}" font-weight="bold">verdict</text>')
    out.append("</svg>")
    return "\n".join(out)


def _arrow(x: float, y: float, way: int, colour: str) -> str:
    """An interval cut at the axis' edge: a head pointing the way it goes on (`way` -1 or +1)."""
    return f'<polygon points="{x:.1f},{y - 4:.1f} {x + 6 * way:.1f},{y:.1f} {x:.1f},{y + 4:.1f}" fill="{colour}"/>'


def _ticks(lo: float, hi: float) -> list[float]:
    """About six round ticks across [lo, hi]."""
    raw = (hi - lo) / 6
    step = min((s * 10**e for e in range(-1, 4) for s in (1, 2, 5) if s * 10**e >= raw), default=1000.0)
    first = -(-lo // step) * step
    return [first + k * step for k in range(int((hi - first) // step) + 1)]
