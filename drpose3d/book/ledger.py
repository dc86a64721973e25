"""The claims ledger: each claim of :mod:`drpose3d.book.claims` judged by one rule on relative
effects, and drawn as tables (HTML for the book, Markdown for the README, runs side by side).

Every claim compares two things per seed: an effect (say DRPose3D's error minus the baseline's)
and its control (the baseline's error). Its relative effect is ``100 × effect / control``, so a
world whose errors are twice Human3.6M's is compared with the paper on the same scale. The rule,
the same for every claim:

* ``reproduced``: the 95 % Student-t interval of the per-seed relative effects excludes zero on
  the paper's side, and the mean reaches at least half the paper's relative effect (claims whose
  paper gives no size need only the first);
* ``reproduced in direction only``: the interval excludes zero on the paper's side, the size falls
  short;
* ``not reproduced``: the interval includes zero or lies on the other side, or there is one seed
  (no interval);
* ``not run``: a result it needs is absent.

For example C1, where the paper's ground-truth ranking cuts the baseline's error by a third: a run
whose per-seed changes are -20.1, -22.4 and -18.2 % has the interval [-25.4, -15.0] %, below zero,
and a mean of -20.2 %, more than half of the paper's: reproduced. Had the mean been -15 %, it would
be reproduced in direction only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drpose3d.book.claims import CLAIMS
from drpose3d.book.results import load_results
from drpose3d.markup import text
from drpose3d.pose.metrics import mean_ci95
from drpose3d.stages.pipeline import STAGES

REPRODUCED, DIRECTION, NOT_REPRODUCED, NOT_RUN = (
    "reproduced",
    "reproduced in direction only",
    "not reproduced",
    "not run",
)
#: The share of the paper's relative effect a run must reach to reproduce it (beyond its sign).
SIZE_SHARE = 0.5


def verdict(
    rel_values: list[float], sign: int, paper_rel: float | None
) -> tuple[str, float | None, tuple[float, float] | None]:
    """The rule of the module docstring on per-seed relative effects: (verdict, mean, interval)."""
    if not rel_values:
        return NOT_RUN, None, None
    mean, ci = mean_ci95(rel_values)
    if ci is None:
        return NOT_REPRODUCED, mean, None
    lo, hi = ci
    if not (hi < 0 if sign < 0 else lo > 0):
        return NOT_REPRODUCED, mean, ci
    if paper_rel is None or sign * mean >= SIZE_SHARE * abs(paper_rel):
        return REPRODUCED, mean, ci
    return DIRECTION, mean, ci


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 4) for v in values]


def _interval(values: list[float]) -> dict:
    mean, ci = mean_ci95(values) if values else (None, None)
    return {
        "values": _rounded(values),
        "mean": None if mean is None else round(mean, 4),
        "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
    }


def ledger(out: str | Path) -> list[dict]:
    """One results-schema row per claim from ``out/results`` (name = claim id, metric = the unit of
    its absolute effect): per-seed absolute and relative effects, intervals, the verdict, the
    stages its seeds vary, and the dataset and preset its numbers came from."""
    rows = []
    for claim in CLAIMS:
        results = {}
        for nb in claim.notebooks:
            try:
                results[nb] = load_results(out, nb)
            except FileNotFoundError:
                pass
        tables = {nb: {r["name"]: r for r in res["rows"]} for nb, res in results.items()}
        try:
            values, rel = claim.relative(tables) if len(tables) == len(claim.notebooks) else ([], [])
            info = {k: _interval(fn(tables)) for k, fn in (claim.info or {}).items()} if values else {}
        except KeyError:  # a row the claim needs was not run
            values, rel, info = [], [], {}
        decision, _, _ = verdict(rel, claim.sign, claim.paper_rel_pct)
        first = next(iter(results.values()), None)
        stages = [set(r.get("seeded_stages", [])) for r in results.values()]
        rel_part = _interval(rel)
        rows.append({
            "name": claim.id, "metric": claim.unit, "statement": claim.statement,
            "paper": claim.paper, "paper_rel_pct": None if claim.paper is None else round(claim.paper_rel_pct, 2),
            **_interval(values),
            "has_control": claim.control is not None,
            "effect_rel_pct": rel_part["mean"], "effect_rel_values": rel_part["values"],
            "effect_rel_ci95": rel_part["ci95"], "verdict": decision, "info": info,
            "seeded_stages": [s for s in STAGES if stages and all(s in st for st in stages)],
            "notebooks": list(claim.notebooks),
            "dataset": first["dataset"] if first else None, "preset": first["preset"] if first else None,
        })  # fmt: skip
    return rows


Link = Callable[[str], str]  # a notebook's name -> the link target of its chapter


def measured(r: dict) -> str:
    """A claim row's relative effect with its interval, and the absolute one beside it."""
    if r["effect_rel_pct"] is None:
        return "—"
    ci = r["effect_rel_ci95"]
    interval = f" [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else " (one seed)"
    if not r.get("has_control", True):  # the effect is relative already: one number, in its own unit
        return f"{r['effect_rel_pct']:+.2f} {r['metric']}{interval}"
    return f"{r['effect_rel_pct']:+.2f} %{interval} ({r['mean']:+.2f} {r['metric']})"


def paper_words(r: dict) -> str:
    if r["paper"] is None:
        return "—"
    rel = f"{r['paper_rel_pct']:+.1f} %"
    return rel if r["metric"] == "%" else f"{rel} ({r['paper']:+g} {r['metric']})"


def _markup(html: bool, link: Link | None) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """(bold, anchor to a notebook's chapter) in HTML or Markdown."""

    def bold(s: str) -> str:
        return f"<b>{s}</b>" if html else f"**{s}**"

    def anchor(nb: str) -> str:
        if not link:
            return nb
        return f'<a href="{link(nb)}">{nb}</a>' if html else f"[{nb}]({link(nb)})"

    return bold, anchor


def ledger_columns(rows: list[dict], link: Link | None = None, html: bool = False) -> list[dict]:
    """One dict per claim row with the ledger's columns, in HTML or Markdown markup."""
    bold, anchor = _markup(html, link)
    return [{
        "claim": f"{bold(r['name'])} {r['statement']}",
        "paper": paper_words(r),
        "this run (95 % CI)": measured(r),
        "per seed (%)": ", ".join(f"{v:+.1f}" for v in r["effect_rel_values"]) or "—",
        "verdict": r["verdict"],
        "seeds vary": ", ".join(r["seeded_stages"]) or "—",
        "data, preset": f"{text(r['dataset'])}, {r['preset']}" if r["dataset"] else "—",
        "chapter": ", ".join(anchor(nb) for nb in r["notebooks"]),
    } for r in rows]  # fmt: skip


def html_table(rows: list[dict], link: Link) -> str:
    """The ledger as an HTML table for the book (myst-nb does not parse tables in Markdown outputs)."""
    import pandas as pd

    return pd.DataFrame(ledger_columns(rows, link, html=True)).to_html(escape=False, index=False)


def markdown_table(rows: list[dict], link: Link | None = None) -> str:
    """The ledger as a Markdown table (the README)."""
    return markdown_rows(ledger_columns(rows, link))


def side_by_side(ledgers: dict[str, list[dict]], link: Link | None = None, html: bool = False) -> list[dict]:
    """One row per claim, one column per run (say the generated world and the real motion): each
    cell the relative effect, its interval and the verdict; Markdown or (`html`) HTML markup."""
    bold, anchor = _markup(html, link)
    first = next(iter(ledgers.values()))
    rows = []
    for k, claim in enumerate(CLAIMS):
        chapter = ", ".join(anchor(nb) for nb in claim.notebooks)
        row = {"claim": f"{bold(claim.id)} {claim.statement} ({chapter})", "paper": paper_words(first[k])}
        for name, ledger_rows in ledgers.items():
            r = ledger_rows[k]
            row[name] = f"{measured(r)}, {bold(r['verdict'])}" if r["effect_rel_pct"] is not None else r["verdict"]
        rows.append(row)
    return rows


def markdown_rows(rows: list[dict]) -> str:
    """Rows of equal keys as a Markdown table."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    return "\n".join(lines + ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows])
