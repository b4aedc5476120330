"""Forward mode: dual numbers."""
