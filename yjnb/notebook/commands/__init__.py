"""One module per magic; each has a `run_*(session, args, ...)` that `magics.py` calls."""
