"""Numbered captions: a chapter's number is its place in the book's navigation, and a page numbers
its figures and tables apart, in the order it shows them, each naming its data, preset and seeds."""

from drpose3d.chapters import NOTEBOOKS, Notebook
from drpose3d.pages.captions import Captions, chapter_number

RESULT = {"dataset": "mocap:<b>mine</b>.npz", "preset": "cpu", "seeds": [0, 1, 2]}


def test_chapter_numbers_count_every_file_of_the_toc_across_its_parts(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: one\n    numbered: 1\n    chapters:\n"
        "      - file: book/method\n      - file: notebooks/data_world\n"
        "  - caption: two\n    numbered: 1\n    chapters:\n      - file: notebooks/claims\n"
    )
    assert chapter_number(Notebook.DATA_WORLD, toc) == 2
    assert chapter_number(Notebook.CLAIMS, toc) == 3  # numbered on, not from 1 again in the second part


def test_the_projects_toc_numbers_every_notebook_once_in_book_order():
    numbers = [chapter_number(n) for n in NOTEBOOKS]
    assert len(set(numbers)) == len(NOTEBOOKS)
    assert numbers[NOTEBOOKS.index(Notebook.FIG5A_PRCNN_ABLATION)] < numbers[NOTEBOOKS.index(Notebook.CLAIMS)]


def test_figures_and_tables_are_numbered_apart_and_name_their_data():
    caption = Captions(Notebook.TABLE1_UPPER_BOUND, RESULT)
    n = chapter_number(Notebook.TABLE1_UPPER_BOUND)
    first = caption.table("Lifters on ground-truth 2D", "MPJPE in mm.")
    assert first.startswith(f"**Table {n}.1.** Lifters on ground-truth 2D. Data ")
    assert "cpu preset, seeds 0, 1, 2. MPJPE in mm." in first
    assert "<b>" not in first  # a user's file name is shown, never rendered as markup
    assert caption.figure("Beside the paper's").startswith(f"**Figure {n}.1.**")
    assert caption.table("Per action").startswith(f"**Table {n}.2.**")
    one = Captions(Notebook.DATA_WORLD, {**RESULT, "seeds": [0]}).figure("A frame")
    assert one.endswith("cpu preset, seed 0.")  # one seed is not "seeds 0"


def test_a_page_without_a_results_record_names_no_data():
    caption = Captions(Notebook.PERFORMANCE)
    number = chapter_number(Notebook.PERFORMANCE)
    assert caption.figure("Renderer throughput") == f"**Figure {number}.1.** Renderer throughput."
