"""The paper's pipeline as plain functions (2D pose, PRCNN, DPNet) and their cached chain (pipeline.Context)."""
