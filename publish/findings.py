"""The executive summary's key findings, written from the snapshot in the reader's language:
the trend of the immigrant stock, the diaspora and its main destinations, refugees, remittances
against GDP, and the main gaps. Each sentence is a translated message filled with the figures
as the tables write them, and a flagged figure says so."""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel.lists import format_list

from indicators.flags import OBS_STATUS_LABELS
from publish.profile_data import yearly
from sources.i18n import N_

if TYPE_CHECKING:
    from publish.report import ProfileBuilder

IMMIGRANTS_TREND = N_(
    "The number of international migrants living in {country} went from {first} in "
    "{first_year} to {last} in {last_year}."
)
IMMIGRANTS_SHARE = N_("In {year}, international migrants made up {share} of the population.")
DIASPORA = N_(
    "In {year}, {total} people born in {country} lived abroad; the main countries of "
    "destination were {destinations}."
)
REFUGEES = N_(
    "In {year}, {country} hosted {hosted} refugees, and {abroad} refugees from {country} lived "
    "in other countries."
)
REMITTANCES = N_("Remittances received reached {amount} in {year}.")
REMITTANCES_GDP = N_("Remittances received reached {amount} in {year}, {share} of GDP.")
GAPS = N_(
    "{count} indicators of the common set have no value for {country} in this edition; Part D "
    "says why and what the working group recommends."
)


def _latest(builder: ProfileBuilder, indicator_id: str) -> dict | None:
    rows = yearly(builder.national(indicator_id)).dropna(subset=["obs_value"])
    if rows.empty:
        return None
    indicator = builder.catalogue.get(indicator_id)
    # the headline series: the one named as the indicator, else the first the catalogue lists
    for series in (indicator_id, *(indicator.series if indicator else ())):
        if (rows["series"] == series).any():
            rows = rows[rows["series"] == series]
            break
    return rows.sort_values("time_period").iloc[-1].to_dict()


def _shown(builder: ProfileBuilder, row: dict) -> str:
    """A figure as the tables write it, with its flag in words where it has one."""
    text = builder.number(row["obs_value"], row["unit_measure"])
    if row["unit_measure"] == "PT":
        text = builder.t("{value} %", value=text)
    elif row["unit_measure"] not in ("PS", "USD"):
        text = f"{text} {builder.unit_name(row['unit_measure'])}"
    status = row.get("obs_status")
    if isinstance(status, str) and OBS_STATUS_LABELS.get(status):
        text = f"{text} ({builder.t(OBS_STATUS_LABELS[status]).lower()})"
    return text


def key_findings(builder: ProfileBuilder, gap_count: int) -> list[str]:
    country = builder.name(builder.country)
    found = []
    stock = yearly(builder.national("IMM_STOCK")).dropna(subset=["obs_value"])
    stock = (
        stock[stock["series"] == "IMM_STOCK"] if (stock["series"] == "IMM_STOCK").any() else stock
    )
    if len(stock) >= 2:
        stock = stock.sort_values("time_period")
        first, last = stock.iloc[0].to_dict(), stock.iloc[-1].to_dict()
        found.append(
            builder.t(
                IMMIGRANTS_TREND,
                country=country,
                first=_shown(builder, first),
                first_year=first["time_period"],
                last=_shown(builder, last),
                last_year=last["time_period"],
            )
        )
    share = _latest(builder, "IMM_STOCK_PCT")
    if share:
        found.append(
            builder.t(IMMIGRANTS_SHARE, year=share["time_period"], share=_shown(builder, share))
        )
    diaspora = _latest(builder, "EMI_STOCK")
    if diaspora:
        rows = builder.totals("EMI_STOCK")
        rows = rows[
            (rows["ref_area"] == builder.country)
            & (rows["counterpart_area"] != "_T")
            & (rows["time_period"] == diaspora["time_period"])
            & (rows["series"] == diaspora["series"])
        ].dropna(subset=["obs_value"])
        top = rows.nlargest(3, "obs_value")
        if len(top):
            destinations = format_list(
                [
                    f"{builder.name(r['counterpart_area'])} ({_shown(builder, r)})"
                    for r in top.to_dict(orient="records")
                ],
                locale=builder.language,
            )
            found.append(
                builder.t(
                    DIASPORA,
                    year=diaspora["time_period"],
                    total=_shown(builder, diaspora),
                    country=country,
                    destinations=destinations,
                )
            )
    hosted, abroad = _latest(builder, "REF_HOSTED"), _latest(builder, "REF_ABROAD")
    if hosted and abroad and hosted["time_period"] == abroad["time_period"]:
        found.append(
            builder.t(
                REFUGEES,
                year=hosted["time_period"],
                country=country,
                hosted=_shown(builder, hosted),
                abroad=_shown(builder, abroad),
            )
        )
    remittances = _latest(builder, "REM_IN_USD")
    if remittances:
        gdp = yearly(builder.national("SDG_17_3_2")).dropna(subset=["obs_value"])
        gdp = gdp[gdp["time_period"] == remittances["time_period"]]
        if len(gdp):
            found.append(
                builder.t(
                    REMITTANCES_GDP,
                    amount=_shown(builder, remittances),
                    year=remittances["time_period"],
                    share=_shown(builder, gdp.iloc[0].to_dict()),
                )
            )
        else:
            found.append(
                builder.t(
                    REMITTANCES,
                    amount=_shown(builder, remittances),
                    year=remittances["time_period"],
                )
            )
    if gap_count:
        found.append(builder.t(GAPS, count=gap_count, country=country))
    return found
