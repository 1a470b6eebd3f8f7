"""Every input of the profile as an observable source: its data version is the SHA-256 digest of
the files it stands for (warehouse/fingerprints.py), so Dagster shows which assets a new file
makes stale. Observed when a refresh starts, and by the automation sensor once switched on."""

from __future__ import annotations

import warnings

import dagster as dg

from pipelines.resources import WarehouseResource
from warehouse.fingerprints import (
    CODE,
    CONFIGURATION,
    INTERNATIONAL,
    RefreshPlan,
    census_group,
    national_group,
    take_fingerprint,
)

warnings.filterwarnings("ignore", category=dg.BetaWarning)

#: Inputs are looked at every 15 minutes once the automation sensor runs.
OBSERVE_EVERY = dg.AutomationCondition.cron_tick_passed("*/15 * * * *")

INTERNATIONAL_FILES = dg.AssetKey(["inputs", "international_files"])
CONFIGURATION_FILES = dg.AssetKey(["inputs", "configuration"])
NATIONAL_FILES = dg.AssetKey(["inputs", "national_files"])
CENSUS_FILES = dg.AssetKey(["inputs", "census_files"])

#: the fingerprint group (or its prefix) each input asset stands for
GROUP_KEYS = {
    INTERNATIONAL: INTERNATIONAL_FILES,
    CONFIGURATION: CONFIGURATION_FILES,
    "national": NATIONAL_FILES,
    "census": CENSUS_FILES,
}


def input_key(group: str) -> dg.AssetKey | None:
    """The input asset of a fingerprint group; None for the code (the assets' code version)."""
    return GROUP_KEYS.get(group.split("/", 1)[0]) if group != CODE else None


def stale_selection(plan: RefreshPlan) -> dg.AssetSelection:
    """The assets a change makes stale: those downstream of the inputs whose digest changed;
    everything (inputs observed too) when the code changed, on --force, or with no record of a
    complete refresh."""
    if plan.previous is None or CODE in plan.changed:
        return dg.AssetSelection.all(include_sources=True)
    keys = {input_key(group) for group in plan.changed} - {None}
    return dg.AssetSelection.assets(*keys).downstream()


def _fingerprint(warehouse: WarehouseResource):
    return take_fingerprint(warehouse.settings, warehouse.specs)


def _by_country(countries, groups: dict[str, str], group_of) -> dg.DataVersionsByPartition:
    """A country's version: its own files with those covering every country."""
    common = groups.get(group_of("*"), "")
    return dg.DataVersionsByPartition(
        {
            c: dg.DataVersion(f"{groups.get(group_of(c), 'none')[:24]}:{common[:8]}")
            for c in countries
        }
    )


def _shared_input(key: dg.AssetKey, group: str, description: str):
    """The observable source of one input group that concerns every country. One per group:
    a plan that selects only the configuration (or only the publishers' files) must be able
    to take one without the other."""

    @dg.observable_source_asset(
        key=key,
        group_name="inputs",
        automation_condition=OBSERVE_EVERY,
        description=description,
    )
    def observe(warehouse: WarehouseResource) -> dg.DataVersion:
        return dg.DataVersion(_fingerprint(warehouse).groups.get(group, "none"))

    return observe


def build_inputs(countries: dg.PartitionsDefinition) -> list:
    international_files = _shared_input(
        INTERNATIONAL_FILES,
        INTERNATIONAL,
        "Publishers' releases (public folder, inbox/PUBLIC, archive/PUBLIC) and reference "
        "data: data version = SHA-256 of their contents",
    )
    configuration = _shared_input(
        CONFIGURATION_FILES,
        CONFIGURATION,
        "Specs, baseline requests and governance entries kept apart, and the settings that "
        "change what is published (EMP_SDC_THRESHOLD, ...)",
    )

    @dg.observable_source_asset(
        key=NATIONAL_FILES,
        partitions_def=countries,
        group_name="inputs",
        automation_condition=OBSERVE_EVERY,
        description="Each country's ministry and statistics-office files (bundled samples, "
        "the statistics-office folder, inbox, archive, rejected): one data version per country",
    )
    def national_files(warehouse: WarehouseResource) -> dg.DataVersionsByPartition:
        groups = _fingerprint(warehouse).groups
        return _by_country(countries.get_partition_keys(), groups, national_group)

    @dg.observable_source_asset(
        key=CENSUS_FILES,
        partitions_def=countries,
        group_name="inputs",
        automation_condition=OBSERVE_EVERY,
        description="Each country's census microdata files: one data version per country",
    )
    def census_files(warehouse: WarehouseResource) -> dg.DataVersionsByPartition:
        groups = _fingerprint(warehouse).groups
        return _by_country(countries.get_partition_keys(), groups, census_group)

    return [international_files, configuration, national_files, census_files]
