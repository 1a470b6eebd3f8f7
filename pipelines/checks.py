"""Asset checks on the indicator mart: they block a snapshot of broken values."""

from __future__ import annotations

import dagster as dg

from indicators.checks import known_areas, shares_within_bounds, unique_keys
from pipelines.assets import indicators
from pipelines.resources import WarehouseResource


def _indicator_check(check_fn, name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=indicators, name=name, blocking=True, description=check_fn.__doc__)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            result = check_fn(con)
        return dg.AssetCheckResult(
            passed=result.passed,
            description=result.description,
            metadata={"failures": result.failures, "examples": result.examples},
        )

    return _check


INDICATOR_CHECKS = [
    _indicator_check(unique_keys, "unique_keys"),
    _indicator_check(shares_within_bounds, "shares_within_0_100"),
    _indicator_check(known_areas, "countries_only"),
]
