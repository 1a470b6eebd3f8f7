"""Readers for every kind of input file, the reference tables they need, and the bundled data."""
