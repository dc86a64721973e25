"""What the book finds: one experiment per table or figure (experiments, analyses), the paper's
claims and the ledger that judges them, and the results JSON every page reads."""
