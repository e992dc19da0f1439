"""Benchmarks: run with `python3 scripts/dev.py bench` (see README)."""
