"""The HTML profile: one self-contained file per country, rendered in headless Chromium (Debian's
`chromium`, installed by `make setup`) to check that every chart drew."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from publish.report import write_profile
from publish.snapshot_check import reseal
from publish.snapshots import list_snapshots


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is missing: `make setup` installs Debian's chromium package"
    return found


def rendered_dom(html: Path, tmp_path: Path) -> str:
    """The page after its scripts ran, as headless Chromium serialises it."""
    done = subprocess.run(
        [
            chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def morocco(built, tmp_path_factory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("report")
    snapshot = Path(list_snapshots(built.snapshots, "MAR")[-1]["path"])
    html = write_profile(snapshot, tmp / "EMP_MAR.html", "en")
    return html, rendered_dom(html, tmp)


def test_every_chart_draws_in_chromium(morocco):
    html, dom = morocco
    figures = re.findall(r"<figure class=\"chart[^\"]*\"[^>]*>", dom)
    assert len(figures) >= 15
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", dom, flags=re.S)
    assert len(svgs) == len(figures)
    assert all(("<path" in s or "<rect" in s) for s in svgs)
    assert dom.count("mark-line") >= 5 and dom.count("mark-rect") >= 10


def test_the_profile_has_its_parts_sources_and_gaps(morocco):
    html, _ = morocco
    text = html.read_text(encoding="utf-8")
    for heading in (
        "Key data",
        "Part A. Migration trends",
        "Part B. Impact of migration",
        "Part D. Data gaps",
        "Sources and provenance",
    ):
        assert heading in text
    for module in (
        "Immigration",
        "Emigration and diaspora",
        "Return",
        "Forced migration",
        "Internal migration",
        "Remittances",
        "Labour market",
    ):
        assert f"<h3>{module}</h3>" in text
    assert "98,574" in text  # UN DESA immigrant stock, Morocco 2019
    assert "UN DESA Population Division: " in text and "Population census 2014" in text
    part_d = text[text.index('id="part-d"') :]
    assert "Emigration flow" in part_d and "No ministry or statistics-office file" in part_d


def test_the_file_is_self_contained(morocco):
    html, _ = morocco
    text = html.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert "<link" not in text and "person_id" not in text


def test_emp_report_writes_the_profile_from_a_snapshot(built, tmp_path):
    import sys

    output = tmp_path / "moldova.html"
    args = [sys.executable, "-m", "pipelines.cli", "report", "--country", "MDA"]
    args += ["--snapshots", str(built.snapshots), "--output", str(output)]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1]
    )
    assert done.returncode == 0, done.stderr
    text = output.read_text(encoding="utf-8")  # Moldova's working group reads Romanian
    assert '<html lang="ro" dir="ltr">' in text and 'class="chart-data"' in text
    assert "Profilul Migrațional Extins: Republica Moldova" in text
    english = subprocess.run(
        [*args[:-1], str(tmp_path / "en.html"), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert english.returncode == 0, english.stderr
    assert "Extended Migration Profile: Moldova" in (tmp_path / "en.html").read_text("utf-8")
    missing = subprocess.run(
        [*args[:4], "--country", "FRA", "--snapshots", str(built.snapshots)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert missing.returncode == 2 and "no snapshot for FRA" in missing.stderr


HOSTILE = '</script><script>document.title="pwned"</script><img src=x onerror=alert(1)>'


def test_script_in_labels_and_file_names_is_escaped_everywhere(built, tmp_path):
    """Labels, series codes, file names and reasons that hold script reach the page as text:
    nothing runs, and every chart still draws."""
    import json

    import pandas as pd

    source = Path(list_snapshots(built.snapshots, "MAR")[-1]["path"])
    snapshot = tmp_path / "MAR" / source.name
    shutil.copytree(source, snapshot)
    for path in snapshot.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    table = pd.read_parquet(snapshot / "indicators.parquet")
    table.loc[table["indicator_id"] == "REM_IN_USD", "series"] = HOSTILE
    table.to_parquet(snapshot / "indicators.parquet", index=False)
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs"][0]["file_name"] = HOSTILE + ".xlsx"
    manifest["validation"]["held_back"] = [
        {
            "source_id": HOSTILE,
            "country": "MAR",
            "item": f"MAR_MAE/{HOSTILE}.csv",
            "reason": HOSTILE,
        }
    ]
    (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    reseal(snapshot)  # an edition published with these names, not one edited afterwards
    html = write_profile(snapshot, tmp_path / "hostile.html")
    page = html.read_text(encoding="utf-8")
    assert "<img src=x" not in page and 'document.title="pwned"</script>' not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 2
    dom = rendered_dom(html, tmp_path)
    assert "<title>pwned</title>" not in dom


def test_series_sent_without_a_total_are_shown_with_computed_totals(built):
    from publish.report import ProfileBuilder

    philippines = ProfileBuilder(Path(list_snapshots(built.snapshots, "PHL")[-1]["path"]), "en")
    flows = next(
        block
        for part in philippines.context()["parts"]
        for module in part["modules"]
        for block in module["blocks"]
        if block["indicator"].id == "EMI_FLOW"
    )
    (latest,) = flows["latest"]
    assert (latest["period"], latest["value"]) == ("2020", "15,703")  # 5,928 men + 9,775 women
    assert "computed: the sum of the reported values by" in latest["flag"]
    titles = [chart["title"] for chart in flows["charts"]]
    for what in ("by sex", "by age", "by category", "by region", "top 10 partner countries"):
        assert any(what in title for title in titles), what
    labels = {row[0] for chart in flows["charts"] for row in chart["table"]}
    assert {"women", "men", "15-19", "college completed", "United States"} <= labels
    moldova = ProfileBuilder(Path(list_snapshots(built.snapshots, "MDA")[-1]["path"]), "en")
    border = moldova.latest("EMI_FLOW")
    assert border and "computed" in border[0]["flag"]  # the border file has no all-totals row


def test_the_profile_reads_like_a_migration_profile(built, tmp_path, monkeypatch):
    """Key findings from the data, Parts A-D in order and the annexes after, recommendations
    in Part D, institutions and agreements in Part C, titles in their original language named."""
    from publish.report import render_profile

    morocco = Path(list_snapshots(built.snapshots, "MAR")[-1]["path"])
    page = render_profile(morocco, "fr")
    order = [
        page.index(f'id="{anchor}"')
        for anchor in ("summary", "part-a", "part-b", "part-c", "part-d", "part-annex", "annex")
    ]
    assert order == sorted(order)
    findings = page[page.index('id="key-findings"') : page.index('id="key-data"')]
    # UN DESA International Migrant Stock 2019, Morocco: 54,895 in 1990, 98,574 in 2019
    assert "de 54\u202f895 en 1990 à 98\u202f574 en 2019" in findings
    assert "France" in findings and "Espagne" in findings  # the largest destinations
    part_c = html.unescape(page[page.index('id="part-c"') : page.index('id="part-d"')])
    assert "Institution" in part_c and "Accord bilatéral" in part_c
    assert "Accord sur la main-d'œuvre entre le Royaume d'Espagne" in part_c
    georgia = Path(list_snapshots(built.snapshots, "GEO")[-1]["path"])
    in_french = render_profile(georgia, "fr")
    governance = in_french[in_french.index('id="part-c"') : in_french.index('id="part-d"')]
    assert "State Commission on Migration Issues" in governance  # registered in English only
    assert "titre original, en anglais" in governance
    part_d = html.unescape(page[page.index('id="part-d"') : page.index('id="part-annex"')])
    assert "Recommandations du groupe de travail" in part_d
    assert "Direction générale de la Sûreté nationale" in part_d and "proposée" in part_d
    for country in ("GEO", "MDA", "PHL"):
        snapshot = Path(list_snapshots(built.snapshots, country)[-1]["path"])
        text = render_profile(snapshot, "en")
        governance = text[text.index('id="part-c"') : text.index('id="part-d"')]
        assert "Institution" in governance and "Bilateral agreement" in governance, country
    broken = tmp_path / "recommendations"
    broken.mkdir()
    (broken / "MAR.yaml").write_text("recommendations:\n  - topic: {fr: x}\n", encoding="utf-8")
    monkeypatch.setenv("EMP_RECOMMENDATIONS", str(broken))
    page = render_profile(morocco, "fr")
    assert "Les recommandations de ce pays n'ont pas pu être lues" in page
    assert "MAR.yaml, recommendation 1" in page
