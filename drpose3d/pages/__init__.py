"""How the book shows it: the prose computed from the numbers (summaries of the lifting chapters,
the image half's convergence and pairs, the presets table), charts, 3D scenes, camera views and the forest plot.
Reads drpose3d.book; nothing there reads back. The runner that executes the notebooks and builds
the book from them is :mod:`drpose3d.command.reproduce`."""
