"""Seeded generator of the sample national submissions, calibrated to the bundled real data.

The files are SYNTHETIC: they imitate what Moroccan and Moldovan ministries send (layouts,
languages, encodings, codes), with values drawn around the real international figures:
consular registrations are a share of the World Bank emigrant stock by destination, quarterly
remittances add up to the WDI annual total, permits follow the World Bank immigrant origins.

    python -m sources.samples [--out sources/data/national] [--seed 2019]
"""

from __future__ import annotations

import argparse
import csv
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from sources.data_home import NATIONAL_DATA_DIR as BUNDLED_NATIONAL_DATA
from sources.projects import write_logframe
from sources.publishers.files import default_observations, default_release

NATIONAL_DATA_DIR = BUNDLED_NATIONAL_DATA
YEAR = 2019
SYNTHETIC_FR = "Données synthétiques générées par EMP pour les essais ; ne pas citer."
SYNTHETIC_RO = "Date sintetice generate de EMP pentru testare; a nu se cita."

#: How ministries in each country write destination names (their usage, not ISO's).
FRENCH = {
    "ESP": "Espagne",
    "FRA": "France",
    "ITA": "Italie",
    "BEL": "Belgique",
    "NLD": "Pays-Bas",
    "DEU": "Allemagne",
    "USA": "Etats-Unis",
    "CAN": "Canada",
    "GBR": "Grande-Bretagne",
    "ARE": "Emirats Arabes Unis",
    "SAU": "Arabie Saoudite",
    "ISR": "Israël",
    "QAT": "Qatar",
    "LBY": "Libye",
    "DZA": "Algérie",
    "TUN": "Tunisie",
    "SEN": "Sénégal",
    "CHE": "Suisse",
    "SWE": "Suède",
    "KWT": "Koweït",
    "SYR": "Syrie",
    "CIV": "Côte d'Ivoire",
    "CHN": "Chine",
    "MLI": "Mali",
    "GIN": "Guinée",
    "CMR": "Cameroun",
    "TUR": "Turquie",
    "PRT": "Portugal",
    "AUT": "Autriche",
    "NOR": "Norvège",
    "DNK": "Danemark",
    "OMN": "Oman",
    "BHR": "Bahreïn",
    "JOR": "Jordanie",
    "EGY": "Egypte",
    "MRT": "Mauritanie",
    "COD": "Congo (RDC)",
    "PHL": "Philippines",
    "IRQ": "Irak",
    "YEM": "Yémen",
    "RUS": "Russie",
    "UKR": "Ukraine",
    "GAB": "Gabon",
    "COG": "Congo",
    "NER": "Niger",
    "BFA": "Burkina Faso",
    "BEN": "Bénin",
    "IRL": "Irlande",
    "AUS": "Australie",
    "GRC": "Grèce",
    "POL": "Pologne",
    "LBN": "Liban",
}
ROMANIAN = {
    "RUS": "Rusia",
    "ITA": "Italia",
    "UKR": "Ucraina",
    "ROU": "România",
    "DEU": "Germania",
    "ISR": "Israel",
    "FRA": "Franța",
    "GBR": "Regatul Unit",
    "ESP": "Spania",
    "PRT": "Portugalia",
    "USA": "Statele Unite ale Americii",
    "CAN": "Canada",
    "GRC": "Grecia",
    "TUR": "Turcia",
    "BEL": "Belgia",
    "IRL": "Irlanda",
    "CZE": "Cehia",
    "KAZ": "Kazahstan",
    "BLR": "Belarus",
    "AUT": "Austria",
    "NLD": "Țările de Jos",
    "POL": "Polonia",
    "CYP": "Cipru",
    "BGR": "Bulgaria",
}


@cache
def _bilateral(source_id: str) -> pd.DataFrame:
    return default_observations(source_id)


def emigrants_by_destination(origin: str, known: dict[str, str]) -> pd.Series:
    """World Bank 2017 emigrant stock of `origin` by destination, for destinations we can name."""
    m = _bilateral("wb_bilateral_migration")
    rows = m[(m.ref_area == origin) & m.counterpart_area.isin(known) & (m.obs_value > 0)]
    return rows.set_index("counterpart_area").obs_value.sort_values(ascending=False)


def immigrants_by_origin(destination: str, known: dict[str, str]) -> pd.Series:
    m = _bilateral("wb_bilateral_migration")
    rows = m[(m.counterpart_area == destination) & m.ref_area.isin(known) & (m.obs_value > 0)]
    return rows.set_index("ref_area").obs_value.sort_values(ascending=False)


def remittances_by_sender(receiver: str, known: dict[str, str]) -> pd.Series:
    r = _bilateral("wb_bilateral_remittances")
    rows = r[(r.ref_area == receiver) & r.counterpart_area.isin(known) & (r.obs_value > 0)]
    return rows.set_index("counterpart_area").obs_value.sort_values(ascending=False)


def wdi_value(source_id: str, country: str, year: int) -> float:
    path, release = default_release(source_id)
    frame = release.read(path).frame
    row = frame[(frame.country_code == country) & (frame.year == year)]
    return float(row.value.iloc[0])


def _french_number(value: float, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",")


def consular_registrations(out: Path, rng: np.random.Generator) -> Path:
    """MAR: nationals registered at consulates, by country and sex (French, ';', Latin-1)."""
    stock = emigrants_by_destination("MAR", FRENCH).head(22)
    registered = (stock * rng.uniform(0.55, 0.9, len(stock))).round()
    men_share = rng.uniform(0.5, 0.58, len(stock))
    total = registered.sum()
    path = out / "MAR_MAE" / f"immatriculations_consulaires_{YEAR}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="latin-1", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Pays de résidence", "Sexe", "Nombre d'immatriculés", "Part du total (%)"])
        for (iso3, count), share in zip(registered.items(), men_share, strict=True):
            men = round(count * share)
            for sex, n in (("H", men), ("F", count - men)):
                writer.writerow(
                    [FRENCH[iso3], sex, _french_number(n), _french_number(100 * n / total, 2)]
                )
        writer.writerow(["Total général", "Ensemble", _french_number(total), "100,00"])
    return path


def remittances_quarterly(out: Path, rng: np.random.Generator) -> Path:
    """MAR: remittances by quarter and sending country, USD million (XLSX, titles, notes)."""
    annual = wdi_value("wdi_remittances_received", "MAR", YEAR) / 1e6
    senders = remittances_by_sender("MAR", FRENCH)
    top = senders.head(12)
    shares = pd.concat([top, pd.Series({"_O": senders.iloc[12:].sum()})]) / senders.sum()
    seasonal = np.array([0.22, 0.23, 0.31, 0.24]) * rng.uniform(0.95, 1.05, 4)
    seasonal /= seasonal.sum()
    cells = np.round(np.outer(shares.to_numpy() * annual, seasonal), 1)
    cells[-1, -1] += round(annual - cells.sum(), 1)  # the total is the WDI figure, to 0.1
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Transferts"
    sheet.append(["Office des Changes"])
    sheet.append([f"Transferts des Marocains résidant à l'étranger par pays d'émission, {YEAR}"])
    sheet.append(["(en millions de dollars US)"])
    sheet.append([])
    quarters = [f"T{q} {YEAR}" for q in range(1, 5)]
    sheet.append(["Pays d'émission", *quarters, f"Année {YEAR}"])
    for label, row in zip(shares.index, cells, strict=True):
        name = "Autres pays" if label == "_O" else FRENCH[label]
        sheet.append([name, *map(float, row), float(round(row.sum(), 1))])
    totals = cells.sum(axis=0).round(1)
    sheet.append(["Total", *map(float, totals), float(round(totals.sum(), 1))])
    sheet.append([])
    sheet.append(["Source : Office des Changes, balance des paiements."])
    sheet.append([f"Note : {SYNTHETIC_FR}"])
    for cell in sheet[5]:
        cell.font = Font(bold=True)
    return _save(wb, out / "MAR_OC" / f"transferts_mre_{YEAR}.xlsx")


def anapec_placements(out: Path, rng: np.random.Generator) -> Path:
    """MAR: workers placed abroad by destination, sex and sector (CSV, UTF-8)."""
    programmes = [  # destination, sector, typical yearly placements, share of women
        ("ESP", "Agriculture", 14000, 0.97),
        ("FRA", "Agriculture", 2500, 0.1),
        ("DEU", "Santé", 350, 0.6),
        ("DEU", "Hôtellerie et restauration", 200, 0.4),
        ("QAT", "Hôtellerie et restauration", 900, 0.3),
        ("QAT", "BTP", 700, 0.0),
        ("ARE", "Hôtellerie et restauration", 1100, 0.35),
        ("ARE", "Services aux ménages", 400, 0.9),
        ("SAU", "BTP", 800, 0.0),
        ("SAU", "Santé", 300, 0.7),
        ("CAN", "Industrie", 250, 0.2),
        ("ITA", "Agriculture", 600, 0.2),
        ("BEL", "Santé", 120, 0.75),
    ]
    path = out / "MAR_ANAPEC" / f"placements_international_{YEAR}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Année", "Pays de destination", "Sexe", "Secteur", "Nombre de placements"])
        for iso3, sector, typical, women in programmes:
            n = int(rng.poisson(typical))
            f = int(rng.binomial(n, women))
            for sex, count in (("Hommes", n - f), ("Femmes", f)):
                if count:
                    writer.writerow([YEAR, FRENCH[iso3], sex, sector, count])
    return path


def residence_permits(out: Path, rng: np.random.Generator) -> Path:
    """MAR: residence permits issued to foreigners by citizenship, purpose and sex (XLSX,
    two header rows with a merged cell over the sex columns)."""
    origins = immigrants_by_origin("MAR", FRENCH).head(15)
    purposes = ["Travail", "Regroupement familial", "Études", "Régularisation", "Autres motifs"]
    wb = Workbook()
    sheet = wb.active
    sheet.title = f"Titres {YEAR}"
    sheet.append([f"Titres de séjour délivrés aux étrangers, {YEAR}"])
    sheet.append([f"({SYNTHETIC_FR})"])
    sheet.append(["Nationalité", "Motif du séjour", "Titres délivrés", None])
    sheet.append([None, None, "Hommes", "Femmes"])
    sheet.merge_cells(start_row=3, start_column=3, end_row=3, end_column=4)
    for iso3, stock in origins.items():
        issued = stock * rng.uniform(0.05, 0.15)
        weights = rng.dirichlet([4, 3, 2, 1, 1])
        for purpose, weight in zip(purposes, weights, strict=True):
            n = round(issued * weight)
            men = int(rng.binomial(n, 0.55)) if n else 0
            if n:
                sheet.append([FRENCH[iso3], purpose, men, n - men])
    return _save(wb, out / "MAR_DGSN" / f"titres_sejour_{YEAR}.xlsx")


def border_emigration_return(out: Path, rng: np.random.Generator) -> Path:
    """MDA: emigrants and returnees by destination and sex (Romanian labels, CSV)."""
    stock = emigrants_by_destination("MDA", ROMANIAN)
    top = stock.head(10)
    path = out / "MDA_IGPF" / f"emigrare_revenire_{YEAR}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(ROMANIAN[c], s) for c, s in top.items()] + [("Alte țări", stock.iloc[10:].sum())]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Anul", "Țara de destinație", "Sexul", "Emigranți", "Reveniți"])
        for name, s in rows:
            emigrants = s * rng.uniform(0.025, 0.045)
            for sex, share in (("Bărbați", 0.53), ("Femei", 0.47)):
                e = round(emigrants * share)
                writer.writerow([YEAR, name, sex, e, round(e * rng.uniform(0.45, 0.75))])
    return path


def lfs_working_abroad(out: Path, rng: np.random.Generator) -> Path:
    """MDA: LFS module, persons working abroad by destination and sex, thousands (XLSX)."""
    stock = emigrants_by_destination("MDA", ROMANIAN)
    total = stock.sum() * 0.3 / 1000
    named = ["RUS", "ITA", "ISR", "DEU", "FRA", "GBR", "ROU", "PRT"]
    shares = stock.reindex(named).fillna(0) / stock.sum()
    wb = Workbook()
    sheet = wb.active
    sheet.title = "AFM"
    sheet.append([f"Populația plecată la lucru sau în căutare de lucru peste hotare, {YEAR}"])
    sheet.append(["mii persoane"])
    sheet.append([SYNTHETIC_RO])
    sheet.append(["Țara", "Total", "Bărbați", "Femei"])
    men_share = {
        "RUS": 0.72,
        "ISR": 0.6,
        "ITA": 0.35,
        "DEU": 0.6,
        "FRA": 0.5,
        "GBR": 0.55,
        "ROU": 0.55,
        "PRT": 0.5,
    }
    rows = []
    for iso3 in named:
        value = total * shares[iso3] * rng.uniform(0.9, 1.1)
        men = value * men_share[iso3]
        rows.append((ROMANIAN[iso3], round(value, 1), round(men, 1), round(value - men, 1)))
    rest = total * (1 - shares.sum())
    rows.append(("Alte țări", round(rest, 1), round(rest * 0.55, 1), round(rest * 0.45, 1)))
    for row in rows:
        sheet.append([row[0], row[1], row[2], round(row[1] - row[2], 1)])
    t, m = sum(r[1] for r in rows), sum(r[2] for r in rows)
    sheet.append(["Total", round(t, 1), round(m, 1), round(t - m, 1)])
    return _save(wb, out / "MDA_BNS" / f"lucratori_strainatate_{YEAR}.xlsx")


PROJECT_STATUS = (
    "SYNTHETIC sample: values invented for testing; the JMDI handbook gives no budgets or "
    "outcome figures"
)


def _progress(rng: np.random.Generator, baseline: float, target: float, periods: int) -> list:
    """Actual values moving from the baseline towards the target, with noise."""
    steps = np.sort(rng.uniform(0.2, 1.0, periods))
    return [round(baseline + (target - baseline) * s) for s in steps]


def project_reports(out: Path, rng: np.random.Generator) -> list[Path]:
    """Logframe reports of two Moroccan and two Moldovan JMDI projects (values synthetic).

    The Moroccan reports predate 2015 and name the former regions (MA-09 Chaouia-Ouardigha,
    MA-04 L'Oriental), whose codes ISO 3166-2 now gives to other regions.
    """
    periods = ["2011-S1", "2011-S2", "2012-S1"]
    reports = {
        "Morocco-32": (
            [
                (
                    "MIDEF-1",
                    "Women trained in income-generating activities",
                    None,
                    "persons",
                    "Women",
                    0,
                    120,
                ),
                (
                    "MIDEF-2",
                    "Micro-enterprises created by women with migrant savings",
                    None,
                    "number",
                    "Women",
                    3,
                    25,
                ),
                (
                    "MIDEF-3",
                    "Personal remittances received, national",
                    "REM_IN_USD",
                    "USD",
                    "Total",
                    6_400_000_000,
                    None,
                ),
            ],
            ["MA-09", "MA-KHO"],
        ),
        "Morocco-33": (
            [
                ("POUL-1", "Households running a poultry unit", None, "households", "Total", 0, 40),
                ("POUL-2", "Jobs created in poultry farming", None, "persons", "Men", 0, 30),
                ("POUL-2", "Jobs created in poultry farming", None, "persons", "Women", 0, 30),
            ],
            ["MA-04", "MA-NAD"],
        ),
        "Moldova-29": (
            [
                (
                    "HH-1",
                    "Elderly and children of left-behind households receiving support",
                    None,
                    "persons",
                    "Total",
                    0,
                    600,
                ),
                (
                    "HH-2",
                    "Citizens working or seeking work abroad, national",
                    "LAB_ABROAD",
                    "persons",
                    "Total",
                    310_000,
                    None,
                ),
            ],
            ["MD-RD-NORD", "MD-SO"],
        ),
        "Moldova-31": (
            [
                (
                    "FIN-1",
                    "Remittance recipients trained in financial literacy",
                    None,
                    "persons",
                    "Women",
                    0,
                    900,
                ),
                (
                    "FIN-1",
                    "Remittance recipients trained in financial literacy",
                    None,
                    "persons",
                    "Men",
                    0,
                    600,
                ),
                (
                    "FIN-2",
                    "Share of remittances received through formal channels",
                    None,
                    "%",
                    "Total",
                    52,
                    65,
                ),
                (
                    "FIN-3",
                    "Personal remittances received, national",
                    "REM_IN_USD",
                    "USD",
                    "Total",
                    1_180_000_000,
                    None,
                ),
            ],
            ["MD-CU", "MD-CA", "MD-UN"],
        ),
    }
    written = []
    for code, (indicators, areas) in reports.items():
        rows = []
        for ind_code, name, emp_id, unit, sex, baseline, target in indicators:
            baseline_year = 2009 if code.startswith("Moldova") else 2010
            actual = (
                {}
                if target is None
                else dict(zip(periods, _progress(rng, baseline, target, len(periods)), strict=True))
            )
            rows.append(
                {
                    "Indicator code": ind_code,
                    "Indicator": name,
                    "EMP indicator": emp_id,
                    "Unit": unit,
                    "Sex": sex,
                    "Baseline value": baseline,
                    "Baseline date": f"{baseline_year}-12-31",
                    "Target value": target,
                    "Target date": "2012-12-31" if target is not None else None,
                    "actual": actual,
                    "areas": areas,
                }
            )
        path = out / "PROJECTS" / f"logframe_{code}_2012-S1.xlsx"
        written.append(
            write_logframe(path, code, "2012-S1", date(2012, 6, 30), PROJECT_STATUS, rows, periods)
        )
    return written


def _save(wb: Workbook, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.properties.creator = "EMP sample generator (synthetic data)"
    wb.save(path)
    return path


GENERATORS = (
    consular_registrations,
    remittances_quarterly,
    anapec_placements,
    residence_permits,
    border_emigration_return,
    lfs_working_abroad,
)


def generate_all(out: Path = NATIONAL_DATA_DIR, seed: int = 2019) -> list[Path]:
    """Write every sample submission under `out/<ministry>/` and the project reports under
    `out/PROJECTS/`; same seed, same values."""
    rng = np.random.default_rng(seed)
    return [generate(out, rng) for generate in GENERATORS] + project_reports(out, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=NATIONAL_DATA_DIR)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()
    for path in generate_all(args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
