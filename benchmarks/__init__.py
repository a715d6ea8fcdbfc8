"""Benchmarks of the local cloud: ``make bench`` (``python -m benchmarks``).

Each benchmark prints a table and appends its figures, with the date and the machine,
to benchmarks/RESULTS.md. They measure; they do not assert.
"""
