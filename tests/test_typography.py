"""The book keeps each number on one line with its unit: the Sphinx extension in drpose3d.markup
binds them in every page's prose and leaves code, literal text and raw HTML as they are."""

from docutils import nodes
from docutils.core import publish_doctree

from drpose3d.markup import bind_page_units, bind_units

NBSP = "\u00a0"


def test_a_number_and_its_unit_are_bound_and_nothing_else():
    assert bind_units("86.4 % of pairs, 5 mm and 12 px, 1.5 points") == (
        f"86.4{NBSP}% of pairs, 5{NBSP}mm and 12{NBSP}px, 1.5{NBSP}points"
    )
    # a word after a number, a unit after a word, a longer word that starts like a unit: plain spaces
    for kept in ("3 seeds", "a % sign", "about mm", "5 mmHg", "64 pxl", "2 pointsize"):
        assert bind_units(kept) == kept


def test_the_extension_binds_prose_and_leaves_code_literals_and_raw_html():
    doctree = publish_doctree(
        "MPJPE fell to 30.2 mm (**95 % CI**).\n\n"
        "``42 mm`` in a literal.\n\n"
        "::\n\n    print('7 mm')\n\n"
        ".. raw:: html\n\n    <p>9 mm</p>\n",
        settings_overrides={"report_level": 5},
    )
    bind_page_units(None, doctree, "page")
    paragraph = doctree.children[0]
    assert paragraph.astext() == f"MPJPE fell to 30.2{NBSP}mm (95{NBSP}% CI)."  # inside emphasis too
    assert next(doctree.findall(nodes.literal)).astext() == "42 mm"
    assert next(doctree.findall(nodes.literal_block)).astext() == "print('7 mm')"
    assert next(doctree.findall(nodes.raw)).astext() == "<p>9 mm</p>"
