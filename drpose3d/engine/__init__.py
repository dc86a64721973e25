"""The machinery under the stages: one fit loop, the process group, the cache with its derived keys,
and atomic files. None of it knows the paper; the stages and the book call it."""
