"""The SDMX an edition publishes, read by the clients its users use, not by EMP: sdmx1 and pysdmx
read the structures (SDMX-ML 2.1, checked by pysdmx against the SDMX schemas) and every
SDMX-CSV 2.0 data file against its dataflow; every code is in its published codelist, with a
name in each profile language; every key is unique; and every value equals the snapshot's."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import sdmx
from pysdmx.io import get_datasets

from publish.exports import NATIONAL_DIMENSIONS, SDG_DIMENSIONS
from publish.snapshots import list_snapshots
from sources.geography import areas
from sources.i18n import LANGUAGES

FLOWS = {"sdg": ("DF_SDG_{}", SDG_DIMENSIONS), "national": ("DF_EMP_{}", NATIONAL_DIMENSIONS)}
#: national dataflow dimension -> the snapshot's column
COLUMNS = {
    "INDICATOR": "indicator_id",
    "SERIES": "series",
    "REF_AREA": "ref_area",
    "COUNTERPART_AREA": "counterpart_area",
    "SEX": "sex",
    "AGE": "age",
    "COMPOSITE_BREAKDOWN": "migrant_status",
    "CUST_BREAKDOWN": "breakdown",
    "TIME_PERIOD": "time_period",
}


def edition(built, country: str) -> Path:
    return Path(list_snapshots(built.snapshots, country)[-1]["path"])


@pytest.fixture(scope="module")
def m49_to_iso3() -> dict[str, str]:
    table = areas()
    return {
        f"{int(n):03d}": code
        for code, n in zip(table["code"], table["m49"], strict=True)
        if pd.notna(n)
    }


@pytest.mark.parametrize("country", ["GEO", "MAR", "MDA", "PHL"])
def test_sdmx1_and_pysdmx_read_every_file_against_its_structure(built, country, m49_to_iso3):
    folder = edition(built, country) / "exports" / "sdmx"
    structure = sdmx.read_sdmx(folder / "structure.xml")
    snapshot = pd.read_parquet(edition(built, country) / "indicators.parquet")
    preferred = snapshot[snapshot["preferred"].fillna(True).astype(bool)]
    for stem, (flow_id, dimensions) in FLOWS.items():
        flow = structure.dataflow[flow_id.format(country)]
        assert set(LANGUAGES) <= set(flow.name.localizations), "named in every language"
        dsd = flow.structure
        assert [d.id for d in dsd.dimensions.components] == list(dimensions)
        message = sdmx.read_sdmx(folder / "2.0" / f"{stem}.csv", structure=flow)
        observations = [o for ds in message.data for o in ds.obs]
        assert observations, f"{country} {stem}: no data"
        keys = set()
        for obs in observations:
            key = {k: v.value for k, v in obs.key.values.items()}
            keys.add(tuple(key[d] for d in dimensions))
            for dimension in dsd.dimensions.components:
                listed = dimension.local_representation.enumerated
                if listed is not None:  # every code declared, named in each language
                    code = listed[key[dimension.id]]
                    assert set(LANGUAGES) <= set(code.name.localizations), code
        assert len(keys) == len(observations), f"{country} {stem}: a key repeats"

        # pysdmx: the structure is schema-valid SDMX-ML, the data conform to the dataflow
        (dataset,) = get_datasets(
            str(folder / "2.0" / f"{stem}.csv"), str(folder / "structure.xml"), validate=True
        )
        assert len(dataset.data) == len(observations)
        assert dataset.short_urn == f"Dataflow=EMP:{flow_id.format(country)}(1.0)"

        # as many observations as the snapshot holds for the flow (counted here from the
        # catalogue, not from EMP's exporter)
        assert len(observations) == len(expected_rows(preferred, stem))
        if stem != "national":
            continue
        national = expected_rows(preferred, stem).set_index(
            [COLUMNS[d] for d in dimensions if d in COLUMNS]
        )
        checked = 0
        for obs in observations:
            key = {k: v.value for k, v in obs.key.values.items()}
            key["REF_AREA"] = m49_to_iso3.get(key["REF_AREA"], key["REF_AREA"])
            row = national.loc[tuple(key[d] for d in dimensions if d in COLUMNS)]
            expected = row["obs_value"]
            if pd.isna(expected):
                assert obs.value in ("", None), key
            else:
                # published to 6 decimals
                assert math.isclose(float(obs.value), float(expected), abs_tol=1.5e-6), key
            checked += 1
        assert checked == len(observations)


def expected_rows(preferred: pd.DataFrame, stem: str) -> pd.DataFrame:
    """The snapshot's rows a dataflow publishes: the SDG indicators' own series (totals) under
    the SDG flow, everything else under the national one; periods of a year, quarter, month."""
    from indicators.catalogue import catalogue

    sdg = {i.id for i in catalogue() if i.sdg_indicator and i.sdmx_series}
    variants = {s for i in catalogue() for s in i.extra.get("variant_series") or []}
    rows = preferred[preferred["time_period"].str.fullmatch(r"\d{4}(-Q[1-4]|-\d{2})?")]
    in_sdg = rows["indicator_id"].isin(sdg) & ~rows["series"].isin(variants)
    if stem == "national":
        return rows[~in_sdg]
    rows = rows[in_sdg]
    return rows[(rows["counterpart_area"] == "_T") & (rows["breakdown"] == "_T")]
