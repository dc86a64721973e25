"""The claims ledger: each claim of :mod:`drpose3d.book.claims` judged on a run by the rule of
:mod:`drpose3d.book.verdicts`, and drawn as tables (HTML for the book, Markdown for the README,
runs side by side) and as the sentences a page opens with (:func:`finding`, the front page's
:func:`abstract`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from drpose3d.book.claims import CLAIMS, TRUE_HEATMAPS_INFO
from drpose3d.book.results import LIFTER_SEEDS, SEEDED_STAGES, load_results
from drpose3d.book.verdicts import INCONCLUSIVE, MOST_SEEDS, VERDICT_COLOURS, VERDICTS, seeds_needed, verdict
from drpose3d.chapters import Notebook
from drpose3d.markup import bind_units, text
from drpose3d.paper import FIG5A, Fig5a
from drpose3d.pose.metrics import mean_ci95
from drpose3d.stages.identity import STAGES

# The keys of a judged claim that the forest plot and the tables read back.
#: The claim as the paper states it, and what the rule of :mod:`drpose3d.book.verdicts` decided.
STATEMENT, VERDICT = "statement", "verdict"
ABSTRACT_LEAD = "What this book found"  # the front page's first words once a claim has run
#: A results page's first words: its finding, which the page check looks for before any number.
FINDING = "Finding:"
#: The effect relative to the claim's control (%): this run's mean and 95 % interval, and the paper's.
EFFECT_REL_PCT, EFFECT_REL_CI95, PAPER_REL_PCT = "effect_rel_pct", "effect_rel_ci95", "paper_rel_pct"


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
        except KeyError:  # a row the claim needs was not run
            values, rel = [], []
        info = {}
        for label, fn in (claim.info or {}).items() if values else ():
            try:
                info[label] = _interval(fn(tables))
            except KeyError:  # information only: a comparison that did not run is left out
                pass
        decision, _, _ = verdict(rel, claim.sign, claim.paper_rel_pct, claim.margin)
        needed = seeds_needed(rel, claim.sign, claim.paper_rel_pct, claim.margin) if decision == INCONCLUSIVE else None
        first = next(iter(results.values()), None)
        stages = [set(r.get(SEEDED_STAGES, [])) for r in results.values()]
        rel_part = _interval(rel)
        rows.append({
            "name": claim.id, "metric": claim.unit, STATEMENT: claim.statement,
            "paper": claim.paper, PAPER_REL_PCT: None if claim.paper is None else round(claim.paper_rel_pct, 2),
            **_interval(values),
            "has_control": claim.control is not None, "control": claim.control_name, "margin_pct": claim.margin,
            EFFECT_REL_PCT: rel_part["mean"], "effect_rel_values": rel_part["values"],
            EFFECT_REL_CI95: rel_part["ci95"], VERDICT: decision, "seeds_needed": needed, "info": info,
            SEEDED_STAGES: [s for s in STAGES if stages and all(s in st for st in stages)],
            LIFTER_SEEDS: {nb: r[LIFTER_SEEDS] for nb, r in results.items() if r.get(LIFTER_SEEDS, 1) > 1},
            "notebooks": list(claim.notebooks),
            "dataset": first["dataset"] if first else None, "preset": first["preset"] if first else None,
        })  # fmt: skip
    return rows


Link = Callable[[str], str]  # a notebook's name -> the link target of its chapter


def measured(r: dict, html: bool = False) -> str:
    """A claim row's relative effect with its interval, and the absolute one beside it. In the book
    (`html`) each number stays on one line with its unit, and the interval's two ends together: a
    line had ended on "+2.00" and the next begun with "%"."""
    if r[EFFECT_REL_PCT] is None:
        return "—"
    interval = _bracketed(r[EFFECT_REL_CI95], html)
    if not r.get("has_control", True):  # the effect is relative already: one number, in its own unit
        words = f"{r[EFFECT_REL_PCT]:+.2f} {r['metric']}{interval}"
    else:
        words = f"{r[EFFECT_REL_PCT]:+.2f} %{interval} ({r['mean']:+.2f} {r['metric']})"
    return bind_units(words) if html else words


def _bracketed(ci: list[float] | None, html: bool) -> str:
    """An interval as " [lo, hi]" after its mean, its two ends kept together in the book (`html`)."""
    comma = ",\u00a0" if html else ", "
    return f" [{ci[0]:+.2f}{comma}{ci[1]:+.2f}]" if ci else " (one seed)"


def verdict_words(r: dict) -> str:
    """The verdict, and for an inconclusive claim about how many seeds would decide it."""
    if r[VERDICT] != INCONCLUSIVE:
        return r[VERDICT]
    if r["seeds_needed"] is None:
        why = "one seed: no spread to size it" if len(r["effect_rel_values"]) < 2 else f"over {MOST_SEEDS:,} seeds"
        return f"{INCONCLUSIVE} ({why})"
    return f"{INCONCLUSIVE} (about {r['seeds_needed']} seeds would decide)"


def seeds_vary(r: dict) -> str:
    """The stages a claim's seeds draw anew, and where a seed's value averages several lifters."""
    stages = ", ".join(r[SEEDED_STAGES]) or "—"
    lifters = [f"{nb}: each seed the mean of {n} DPNet seeds" for nb, n in r.get(LIFTER_SEEDS, {}).items()]
    return "; ".join([stages, *lifters])


def paper_words(r: dict, html: bool = False) -> str:
    """The paper's effect for a table cell ("—" where the paper gives no number); `html` as in
    :func:`measured`."""
    if r["paper"] is None:
        return "—"
    rel = f"{r[PAPER_REL_PCT]:+.1f} %"
    words = rel if r["metric"] == "%" else f"{rel} ({r['paper']:+g} {r['metric']})"
    return bind_units(words) if html else words


def against_paper(r: dict, html: bool = False) -> str:
    """The paper's effect as the end of a sentence about a claim."""
    return "(the paper gives no number)" if r["paper"] is None else f"against the paper's {paper_words(r, html)}"


def coloured_verdict(r: dict) -> str:
    """The verdict's words in bold HTML, in its colour."""
    return f'<b style="color:{VERDICT_COLOURS[r[VERDICT]]}">{verdict_words(r)}</b>'


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
    """One dict per claim row with the ledger's columns, in HTML (verdicts coloured) or Markdown markup."""
    bold, anchor = _markup(html, link)
    return _bound([{
        "claim": f"{bold(r['name'])} {r[STATEMENT]}",
        "control": r["control"],
        "paper": paper_words(r, html),
        "this run (95 % CI)": measured(r, html),
        "per seed (%)": ", ".join(f"{v:+.1f}" for v in r["effect_rel_values"]) or "—",
        VERDICT: coloured_verdict(r) if html else verdict_words(r),
        "seeds vary": seeds_vary(r),
        "data, preset": f"{text(r['dataset'])}, {r['preset']}" if r["dataset"] else "—",
        "chapter": ", ".join(anchor(nb) for nb in r["notebooks"]),
    } for r in rows], html)  # fmt: skip


def _bound(rows: list[dict], html: bool) -> list[dict]:
    """Table headers and cells for a page (`html`, raw HTML that the book's Sphinx extension leaves
    alone) with every number kept beside its unit, as the claims' statements write them ("Table 1: a → b mm")."""
    return [{bind_units(k): bind_units(v) for k, v in row.items()} for row in rows] if html else rows


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
        row = {"claim": f"{bold(claim.id)} {claim.statement} ({chapter})", "paper": paper_words(first[k], html)}
        for name, ledger_rows in ledgers.items():
            r = ledger_rows[k]
            words = coloured_verdict(r) if html else bold(verdict_words(r))
            row[name] = f"{measured(r, html)}, {words}" if r[EFFECT_REL_PCT] is not None else r[VERDICT]
        rows.append(row)
    return _bound(rows, html)


def markdown_rows(rows: list[dict]) -> str:
    """Rows of equal keys as a Markdown table."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    return "\n".join(lines + ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows])


def claims_on(notebook: str) -> list[str]:
    """The ids of the claims a chapter's numbers decide."""
    return [c.id for c in CLAIMS if notebook in c.notebooks]


def finding(out: str | Path, notebook: str) -> str:
    """A results page's opening: the ledger's verdict on each claim the page decides, its relative
    effect with the interval, and the paper's, so no page can read as a success the ledger denies."""
    ids = claims_on(notebook)
    rows = [r for r in ledger(out) if r["name"] in ids]
    parts = [
        f"**{r['name']}** ({r[STATEMENT].split(' (')[0]}; control: {r['control']}): **{verdict_words(r)}**, "
        f"{measured(r, html=True)} {against_paper(r, html=True)}"  # a page of the book
        for r in rows
    ]
    return f"**{FINDING}** " + "; ".join(parts) + "." if parts else ""


def _true_heatmaps(c2: dict) -> str:
    """C2's other reading, where it ran: the same PRCNN design fed heatmaps drawn from the
    ground-truth 2D instead of the hourglass', so a reader sees whether the detector's heatmaps are
    what keeps the predicted ranking from helping."""
    info = c2["info"].get(TRUE_HEATMAPS_INFO)
    if not info or info["mean"] is None:
        return ""
    return bind_units(
        f"; fed heatmaps drawn from the ground-truth 2D instead of the hourglass', {info['mean']:+.2f} %"
        f"{_bracketed(info['ci95'], html=True)} "
        "against the same cascade (information beside C2, as Sec. 3.1 does not say whose heatmaps PRCNN reads)"
    )


def abstract(out: str | Path) -> str:
    """The front page's finding for the run in `out`: its data and preset, the verdict counts, and
    the three things a reader must take away, each with its number and the paper's: the
    ground-truth ranking's gain, what the predicted ranking adds beyond its controls, and where the
    image half stands against a ranker that sees only the 2D pose."""
    rows = {r["name"]: r for r in ledger(out)}
    ran = [r for r in rows.values() if r["dataset"]]
    if not ran:
        return "*No claim of this book has run yet: `drpose3d reproduce` makes the numbers this page summarises.*"
    counts = Counter(r[VERDICT] for r in rows.values())
    seeds = max(len(r["effect_rel_values"]) for r in ran)
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    lines = [
        f"**{ABSTRACT_LEAD}** on **{text(ran[0]['dataset'])}** data with the **{ran[0]['preset']}** preset "
        f"({seeds} seeds), judged claim by claim against the paper's Human3.6M numbers: of {len(rows)} claims, "
        f"{tally}.",
        "",
    ]

    def said(claim: str) -> str:
        r = rows[claim]
        if r[EFFECT_REL_PCT] is None:
            return f"not measured in this run ({claim})"
        return f"{measured(r, html=True)} {against_paper(r, html=True)}: **{verdict_words(r)}** ({claim})"

    lines.append(f"1. **The ground-truth ranking** against the same cascade without ranking input: {said('C1')}.")
    share, fig5b = rows["C11b"], rows["C13"]
    same = len(share["effect_rel_values"]) == len(fig5b["effect_rel_values"]) and all(
        math.isclose(a, b, abs_tol=1e-3)  # two claims' sums of the same numbers: equal up to their rounding
        for a, b in zip(share["effect_rel_values"], fig5b["effect_rel_values"], strict=True)
    )
    if share["effect_rel_values"] and same:
        # the smallest share is protocol #3's in every seed: Fig. 5(b)'s comparison, one number judged twice
        protocol3 = (
            "that share is protocol #3's in every seed, where it is Figure 5(b)'s comparison (C13): "
            f"{against_paper(fig5b, html=True)}, **{verdict_words(fig5b)}**"
        )
    else:
        protocol3 = f"under protocol #3 {said('C13')}"
    lines.append(
        f"2. **The predicted ranking** (PRCNN's, from the image): on ground-truth 2D {said('C2')}"
        f"{_true_heatmaps(rows['C2'])}; its share of DRPose3D's gain on detected 2D {said('C11b')}; {protocol3}."
    )
    try:
        by = {r["name"]: r for r in load_results(out, Notebook.FIG5A_PRCNN_ABLATION)["rows"]}
        prcnn, floor = by[Fig5a.PRCNN_RESNET34], by[Fig5a.FLOOR_2D_ONLY_DETECTED]
        gt_floor = by[Fig5a.FLOOR_2D_ONLY]
        over, under = prcnn["mean"] - floor["mean"], prcnn["mean"] - gt_floor["mean"]
        if under > 0:
            reading = "its pixels hold depth order that even the true 2D pose does not."
        elif over > 0:
            reading = (
                f"its pixels add to the detected 2D pose ({over:+.1f} points) but not yet to the true one "
                f"({under:+.1f} points)."
            )
        else:
            reading = f"its pixels add nothing even to the detected 2D pose ({over:+.1f} points)."
        lines.append(
            f"3. **The image half**: PRCNN-34 ranks {prcnn['mean']:.1f} % of joint pairs correctly (the paper: "
            f"{FIG5A[Fig5a.PRCNN_RESNET34]} %), against {floor['mean']:.1f} % for a ranker that sees only the "
            f"detected 2D pose and {gt_floor['mean']:.1f} % for one on the ground-truth 2D pose (Figure 5(a)): "
            + reading
        )
    except (FileNotFoundError, KeyError):
        lines.append("3. **The image half**: Figure 5(a) has not run, so PRCNN's accuracy is not known here.")
    return "\n".join(lines)
