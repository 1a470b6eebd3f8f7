"""Dagster wiring (assets, checks, jobs, resources) and the `emp` command line."""
