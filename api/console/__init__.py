"""The console: the department's pages under /ui/, on the same service as the JSON API (routes.py wires them)."""
