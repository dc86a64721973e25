"""The claims ledger as tables: HTML for the book, Markdown for the README, and one column per run
side by side (the generated world beside the real motion). One set of columns for both markups."""

from __future__ import annotations

from collections.abc import Callable

from drpose3d.book.claims import CLAIMS

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
        "data, preset": f"{r['dataset']}, {r['preset']}" if r["dataset"] else "—",
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
