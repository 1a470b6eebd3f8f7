"""Errors the command line reports in its own words (no heavy import behind them)."""


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse file."""
