"""Benchmarks. ``make bench`` runs every ``bench/bench_*.py`` and rewrites docs/benchmarks.md.

Each benchmark module exposes ``TITLE`` and ``run() -> str``; ``run`` measures a candidate and its
baseline in the same run and returns a Markdown section (tables of medians and ratios). Targets are
ratios, never absolute times, and no test asserts them.
"""
