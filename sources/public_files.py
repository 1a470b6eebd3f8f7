"""The international public files: what each is, where it lies, how to read it.

They are read where they lie, in the shared data folder (sources/data_home.py), never copied
into the project."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sources.data_home import public_data_dir
from sources.observations import RawRead
from sources.readers import un_desa, unhcr, wdi, world_bank


@dataclass(frozen=True)
class PublicFile:
    """One file as its publisher releases it, and the functions that read and harmonise it."""

    source_id: str
    relative_path: str
    title: str
    publisher: str
    licence: str
    reader: Callable[[Path], RawRead]
    harmoniser: Callable[[pd.DataFrame], pd.DataFrame]
    vintage: str

    def path(self, data_dir: Path | None = None) -> Path:
        return (data_dir or public_data_dir()) / self.relative_path

    @property
    def raw_table(self) -> str:
        return f"raw.{self.source_id}"


CC_BY_4 = "CC BY 4.0"

PUBLIC_FILES: tuple[PublicFile, ...] = (
    PublicFile(
        "un_desa_ims_2019",
        "un_desa_ims_2019/UN_MigrantStockTotal_2019.xlsx",
        "International Migrant Stock 2019, tables 1-6",
        "UN DESA Population Division",
        "CC BY 3.0 IGO",
        un_desa.read,
        un_desa.harmonise,
        "POP/DB/MIG/Stock/Rev.2019",
    ),
    PublicFile(
        "wb_bilateral_migration_2017",
        "wb_bilateral_2017/WB_Bilateral_Estimates_Migrant_Stocks_2017.xlsx",
        "Bilateral Estimates of Migrant Stocks in 2017",
        "World Bank / KNOMAD",
        CC_BY_4,
        world_bank.read_migration,
        world_bank.harmonise_migration,
        "2017 estimates",
    ),
    PublicFile(
        "wb_bilateral_remittances_2017",
        "wb_bilateral_2017/WB_Bilateral_Remittance_Estimates_2017.xlsx",
        "Bilateral Remittance Estimates for 2017",
        "World Bank / KNOMAD",
        CC_BY_4,
        world_bank.read_remittances,
        world_bank.harmonise_remittances,
        "2017 estimates, April 2018 version",
    ),
    PublicFile(
        "wdi_population",
        "wdi/population.csv",
        "Population, total (SP.POP.TOTL)",
        "World Bank, World Development Indicators",
        CC_BY_4,
        wdi.read_tidy,
        wdi.harmonise,
        "WDI, 1960-2024",
    ),
    PublicFile(
        "wdi_remittances_paid",
        "wdi/API_BM.TRF.PWKR.CD.DT_DS2_en_csv_v2_3012027.csv",
        "Personal remittances, paid (current US$) (BM.TRF.PWKR.CD.DT)",
        "World Bank, World Development Indicators",
        CC_BY_4,
        wdi.read_api_csv,
        wdi.harmonise,
        "WDI",
    ),
    PublicFile(
        "wdi_remittances_received",
        "wdi/personal-remittances-received.xls",
        "Personal remittances, received (current US$) (BX.TRF.PWKR.CD.DT)",
        "World Bank, World Development Indicators",
        CC_BY_4,
        wdi.read_excel,
        wdi.harmonise,
        "WDI",
    ),
    PublicFile(
        "wdi_remittances_gdp",
        "wdi/remittances-received-percent-gdp.xls",
        "Personal remittances, received (% of GDP) (BX.TRF.PWKR.DT.GD.ZS)",
        "World Bank, World Development Indicators",
        CC_BY_4,
        wdi.read_excel,
        wdi.harmonise,
        "WDI",
    ),
    PublicFile(
        "wdi_remittance_cost",
        "wdi/sending-cost-to-country.xls",
        "Average transaction cost of sending remittances to a specific country (%) "
        "(SI.RMT.COST.IB.ZS)",
        "World Bank, World Development Indicators",
        CC_BY_4,
        wdi.read_excel,
        wdi.harmonise,
        "WDI",
    ),
    PublicFile(
        "unhcr_population",
        "unhcr/population.csv",
        "Refugee Data Finder: population figures, end-year stocks 2015-2023",
        "UNHCR",
        CC_BY_4,
        unhcr.read_population,
        unhcr.harmonise_population,
        "UNHCR",
    ),
    PublicFile(
        "unhcr_asylum_decisions",
        "unhcr/asylum-decisions.csv",
        "Refugee Data Finder: asylum decisions 2015-2023",
        "UNHCR",
        CC_BY_4,
        unhcr.read_decisions,
        unhcr.harmonise_decisions,
        "UNHCR",
    ),
)

BY_ID: dict[str, PublicFile] = {f.source_id: f for f in PUBLIC_FILES}


def missing_files(data_dir: Path | None = None) -> list[str]:
    """The expected public files not found under `data_dir` (relative paths)."""
    return [f.relative_path for f in PUBLIC_FILES if not f.path(data_dir).is_file()]
