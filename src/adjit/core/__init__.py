"""Core: the registry (Traced, Op, dispatch, levels), grad mode, user ops."""
