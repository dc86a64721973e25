"""Numbered captions of a page's figures (below them) and tables (above them): Figure 7.1, Table
7.2, ... after the chapter's number in the book's navigation, so that a reader (or an issue) can
point at one chart, and each caption says what its marks and whiskers are instead of leaving them
to a guess."""

from __future__ import annotations

from pathlib import Path

import yaml

from drpose3d.chapters import Notebook
from drpose3d.markup import text
from drpose3d.run import project_root

#: What the whiskers of every chart with intervals are (plots.bars_note says it in the legend too), and
#: why overlapping whiskers do not settle a difference: a seed is a whole pipeline, so they hold the
#: spread between seeds that comparing two bars seed for seed cancels.
INTERVAL_WHISKERS = (
    "Whiskers: the 95 % Student-t interval of the mean over the seeds (none where one seed ran). Each seed is a "
    "whole pipeline, so they hold the spread between seeds; two bars are compared seed for seed (What we see, "
    "the claims ledger), with narrower intervals."
)


def chapter_number(notebook: str, toc: Path | None = None) -> int:
    """The chapter's number as the book's navigation prints it: its place among the files of
    ``_toc.yml``, whose parts are numbered on from one another (the root page has no number)."""
    book = yaml.safe_load((toc or project_root() / "_toc.yml").read_text(encoding="utf-8"))
    files = [chapter["file"] for part in book["parts"] for chapter in part["chapters"]]
    return files.index(f"notebooks/{notebook}") + 1


class Captions:
    """One page's captions, numbered in the order the page shows them (figures and tables apart),
    each naming the data, preset and seeds of `result` (a chapter's results record) when given."""

    def __init__(self, notebook: Notebook, result: dict | None = None) -> None:
        self.chapter = chapter_number(notebook)
        self.result = result
        self.count = {"Figure": 0, "Table": 0}

    def figure(self, what: str, marks: str = "") -> str:
        """A figure's caption: its number, what it shows, its data and what its marks mean."""
        return self._caption("Figure", what, marks)

    def table(self, what: str, details: str = "") -> str:
        """A table's caption: its number, what it holds, its data and how to read its cells."""
        return self._caption("Table", what, details)

    def _caption(self, kind: str, what: str, tail: str) -> str:
        self.count[kind] += 1
        parts = [f"**{kind} {self.chapter}.{self.count[kind]}.** {what}."]
        if self.result is not None:
            r = self.result
            seeds = ("seeds " if len(r["seeds"]) > 1 else "seed ") + ", ".join(str(s) for s in r["seeds"])
            parts.append(f"Data {text(r['dataset'])}, {r['preset']} preset, {seeds}.")
        if tail:
            parts.append(tail)
        return " ".join(parts)
