"""Text from users' data made inert wherever the book prints it, and numbers kept with their units.

Subject, action and clip names come from a user's mocap file, and the data spec's label from its
file name: any of them may hold ``<script>``, a backtick or ``$``. The book's Markdown outputs,
HTML tables and Plotly titles all interpret markup, so every such string goes through
:func:`text` (Markdown and HTML) before it is formatted into a page; pandas tables escape their
cells themselves (plain DataFrames always, a ``Styler`` with ``escape="html"``).

The book's pages write "86.4 %" and "5 mm" with a plain space, and a browser may end a line there
and begin the next with the unit; the book's Sphinx build loads this module as an extension
(``_config.yml``) that binds each number to its unit on every page (:func:`bind_units`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docutils import nodes
    from sphinx.application import Sphinx

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


#: The space between a number and the unit after it ("86.4 %", "5 mm", "12 px", "1.5 points").
_NUMBER_UNIT = re.compile(r"(?<=\d) (?=(?:%|mm|px|points)(?!\w))")


def bind_units(value: str) -> str:
    """`value` with a no-break space between each number and its unit: a line cannot end on the
    number and the next begin with the unit."""
    return _NUMBER_UNIT.sub("\u00a0", value)


def bind_page_units(_app: Sphinx, doctree: nodes.document, _docname: str) -> None:
    """:func:`bind_units` on every prose text of a page as Sphinx writes it (the notebooks' Markdown
    outputs included); code, literal text, math and raw HTML keep their spaces."""
    from docutils import nodes

    verbatim = (nodes.FixedTextElement, nodes.literal, nodes.math)  # code blocks, raw HTML, ``code``, $math$
    for node in list(doctree.findall(nodes.Text)):
        bound = bind_units(str(node))
        if bound != str(node) and not isinstance(node.parent, verbatim):
            node.parent.replace(node, nodes.Text(bound))


def setup(app: Sphinx) -> dict:
    """The Sphinx extension: after the notebooks' outputs are chosen, before the HTML is written."""
    app.connect("doctree-resolved", bind_page_units)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
