"""`make bench`: Casework against the limit of its own design, the raw Temporal update round-trip.

Run `python -m bench --help`. See docs/benchmarks.md for what each figure means and limits it.
"""
