"""What the book finds: one experiment per table or figure (stage1 for the image half's, experiments
for the lifting ones, analyses beyond the paper), the paper's claims, the rule that judges them
(verdicts) and the ledger that applies it to a run, and the results JSON every page reads."""
