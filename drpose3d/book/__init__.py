"""What the book is made of: one function per table or figure, the claims ledger, summaries,
plots, results JSON and the notebook runner."""
