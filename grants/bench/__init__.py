"""Benchmark data: a portfolio at a chosen scale, for measuring pages (benchmarks/)."""
