"""Benchmarks run only with --benchmark-only (./dev.sh bench); the default test run skips them."""
