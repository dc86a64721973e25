"""The command line and what it drives: parsing (`cli`), executing the notebooks of a run
(`reproduce`), carrying committed chapters (`carry`), the cost plan (`plan`) and the progress bars
kept in reader copies (`progress`). Nothing below this wing imports it."""
