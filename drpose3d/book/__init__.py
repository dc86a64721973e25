"""What the book finds: one experiment per table or figure (experiments, analyses), the paper's
claims, the rule that judges them (verdicts) and the ledger that applies it to a run, and the
results JSON every page reads."""
