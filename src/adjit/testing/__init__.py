"""Testing helpers: gradcheck (analytic vs finite differences)."""
