"""Small workbooks and CSVs written in the layouts publishers use in other editions than the
bundled ones: UN DESA International Migrant Stock 2020 and 2024, a WDI DataBank export.

The layouts follow the releases (header row 11, sex blocks side by side under block titles,
`Location code`, indented names with footnote asterisks, `B R` types of data, `2015-2020`
periods, a `Table of contents` sheet); the values are made up for the tests, never real.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

#: (name as printed, M49 code, type of data); indents and asterisks as the publisher prints them
AREAS = (
    ("WORLD", 900, None),
    ("   Eastern Europe", 151, None),
    ("      Georgia*", 268, "B"),
    ("      Republic of Moldova*", 498, "B R"),
    ("   Northern Africa", 15, None),
    ("      Morocco", 504, "C R"),
)
BLOCKS = ("both sexes combined", "males", "females")


def stock(code: int, year: int, sex: str, edition: int) -> int:
    """A made-up stock: distinct per area, year, sex and edition; males + females = total."""
    base = code * 100 + (year - 1990) * 10 + edition % 100
    return {"both sexes combined": 2 * base + 1, "males": base, "females": base + 1}[sex]


def write_ims_workbook(
    path: Path, edition: int, years: tuple[int, ...], refugees: bool = False
) -> Path:
    """A Destination workbook of the 2020/2024 layout: contents sheet, Table 1 (stock by sex),
    Table 3 (stock as % of population) and Table 5 (annual rate of change, periods); with
    `refugees`, Table 6 as the 2020 release lays it out: the refugee stock, then a block of
    its growth rate over `1990/1995` periods, `~` where a value is negligible."""
    book = Workbook()
    contents = book.active
    contents.title = "Table of contents"
    contents["A1"] = f"International Migrant Stock {edition}: Destination"
    contents["A3"] = "Table 1. International migrant stock at mid-year by sex"
    with_iso = edition >= 2024  # the 2024 layout carries one more identifier column
    id_labels = ["Index", "Region, development group, country or area", "Notes"]
    id_labels += ["ISO3 Alpha-code", "Location code"] if with_iso else ["Location code"]
    id_labels += ["Type of Data"]
    periods = [f"{a}-{b}" for a, b in zip(years, years[1:], strict=False)]
    tables = (
        (
            "Table 1",
            "International migrant stock at mid-year by sex and by region, country or "
            "area of destination",
            "International migrant stock at mid-year",
            [str(y) for y in years],
        ),
        (
            "Table 3",
            "International migrant stock as a percentage of the total population at "
            "mid-year by sex",
            "International migrant stock as a percentage of the total population",
            [str(y) for y in years],
        ),
        (
            "Table 5",
            "Annual rate of change of the migrant stock by sex",
            "Annual rate of change of the migrant stock",
            periods,
        ),
    )
    for name, title, measure, columns in tables:
        sheet = book.create_sheet(name)
        sheet["A1"] = "United Nations"
        sheet["A2"] = "Department of Economic and Social Affairs, Population Division"
        sheet["A5"] = f"{name}. {title}, 1990-{years[-1]}"
        sheet["A8"] = (
            "Suggested citation: United Nations Department of Economic and Social Affairs, "
            f"Population Division ({edition}). International Migrant Stock {edition}."
        )
        first_data = len(id_labels) + 1
        for n, label in enumerate(id_labels, start=1):
            sheet.cell(row=11, column=n, value=label)
        for b, block in enumerate(BLOCKS):
            start = first_data + b * len(columns)
            sheet.cell(row=10, column=start, value=f"{measure}, {block}")
            for c, label in enumerate(columns):
                value = int(label) if label.isdigit() else label
                sheet.cell(row=11, column=start + c, value=value)
        for r, (area, code, kind) in enumerate(AREAS, start=12):
            row = [r - 11, area, None]
            row += ([f"X{code}"] if with_iso else []) + [code, kind]
            for col, value in enumerate(row, start=1):
                sheet.cell(row=r, column=col, value=value)
            for b, block in enumerate(BLOCKS):
                start = first_data + b * len(columns)
                for c, label in enumerate(columns):
                    year = int(label[-4:])
                    value = stock(code, year, block, edition)
                    if name == "Table 3":
                        value = round(value / 10_000, 3)
                    elif name == "Table 5":
                        value = round((year - 1990) / 10 + code / 1000, 3)
                    sheet.cell(row=r, column=start + c, value=value if code != 15 else "..")
    if refugees:
        _refugee_table(book.create_sheet("Table 6"), id_labels, years, with_iso)
    book.save(path)
    return path


def _refugee_table(sheet, id_labels: list[str], years: tuple[int, ...], with_iso: bool) -> None:
    sheet["A5"] = "Table 6. Estimated refugee stock (including asylum seekers) at mid-year"
    periods = [f"{a}/{b}" for a, b in zip(years, years[1:], strict=False)]
    blocks = (
        ("Estimated refugee stock at mid-year (both sexes)", [str(y) for y in years]),
        ("Growth rate of the refugee stock (%)", periods),
    )
    for n, label in enumerate(id_labels, start=1):
        sheet.cell(row=11, column=n, value=label)
    start = len(id_labels) + 1
    for title, columns in blocks:
        sheet.cell(row=10, column=start, value=title)
        for c, label in enumerate(columns):
            sheet.cell(row=11, column=start + c, value=int(label) if label.isdigit() else label)
        start += len(columns)
    for r, (area, code, kind) in enumerate(AREAS, start=12):
        row = [r - 11, area, None] + ([f"X{code}"] if with_iso else []) + [code, kind]
        refugees = [code * 3 + n if code != 504 or n else "~" for n in range(len(years))]
        growth = [-1.5 if n % 2 else "~" for n in range(len(periods))]
        for col, value in enumerate(row + refugees + growth, start=1):
            sheet.cell(row=r, column=col, value=value)


def write_databank_csv(path: Path, updated: str = "06/28/2024") -> Path:
    """A DataBank export of two series (one EMP reads, one it does not) for two countries, with
    `..` for missing values and the footer DataBank adds."""
    lines = [
        '"Country Name","Country Code","Series Name","Series Code","2022 [YR2022]","2023 [YR2023]"',
        '"Morocco","MAR","Population, total","SP.POP.TOTL","37076584","37457971"',
        '"Georgia","GEO","Population, total","SP.POP.TOTL","3722716",".."',
        '"Morocco","MAR","GDP (current US$)","NY.GDP.MKTP.CD","130000000000","141000000000"',
        "",
        "",
        '"Data from database: World Development Indicators"',
        f'"Last Updated: {updated}"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path
