"""Text from users' data made inert wherever the book prints it.

Subject, action and clip names come from a user's mocap file, and the data spec's label from its
file name: any of them may hold ``<script>``, a backtick or ``$``. The book's Markdown outputs,
HTML tables and Plotly titles all interpret markup, so every such string goes through
:func:`text` (Markdown and HTML) before it is formatted into a page; pandas tables escape their
cells themselves (plain DataFrames always, a ``Styler`` with ``escape="html"``).
"""

from __future__ import annotations

#: Characters that start markup in HTML, CommonMark, MyST (``$`` math, ``{role}``) or a table row,
#: replaced by numeric character references: a reference is always literal text, in Markdown, in
#: HTML and in Plotly's text (which decodes them), and never opens a tag, a code span or math.
_ACTIVE = "&<>\"'`\\*_[]|~$#!{}:"
_REFERENCES = {ord(c): f"&#{ord(c)};" for c in _ACTIVE} | {ord("\n"): " ", ord("\r"): " "}


def text(value: object) -> str:
    """`value` as literal text for a Markdown or HTML page: no tag, link, emphasis, code span or math
    can start inside it, and a line break cannot end the paragraph or table row it sits in."""
    return str(value).translate(_REFERENCES)


def listing(values: list[str] | tuple[str, ...]) -> str:
    """Names from data as one comma-separated, inert list."""
    return ", ".join(text(v) for v in values)
