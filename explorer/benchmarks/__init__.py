"""Benchmarks that print figures (run as modules); never timed tests."""
