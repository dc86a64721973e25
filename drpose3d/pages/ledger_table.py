"""The claims ledger as the book's HTML table: a column whose every row says the same (the data,
the stages the seeds vary) is said once above the table instead of on each of its rows, which in
the text column made each row a dozen lines tall."""

from __future__ import annotations

import html

import pandas as pd

from drpose3d.book.ledger import Link, ledger_columns


def html_table(rows: list[dict], link: Link) -> str:
    """The ledger as an HTML table for the book (myst-nb does not parse tables in Markdown outputs),
    with its constant columns in one line above it."""
    table = pd.DataFrame(ledger_columns(rows, link, html=True))
    constant = [c for c in table.columns if len(table) > 1 and table[c].nunique() == 1 and c != "verdict"]
    said = "; ".join(f"<b>{html.escape(c)}:</b> {table[c].iloc[0]}" for c in constant)
    lead = f"<p>Every row — {said}.</p>\n" if said else ""
    return lead + table.drop(columns=constant).to_html(escape=False, index=False)
