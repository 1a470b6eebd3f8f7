"""The profile and the CLI in the working groups' languages: message catalogs complete, numbers
written as each language writes them, right-to-left Arabic, no label cut, no serious
accessibility violation (axe-core in headless Chromium), synthetic data marked everywhere,
Part C from the governance registry, and a summary of what changed since the last edition."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from publish.report import render_profile, write_profile
from publish.snapshot_check import reseal
from publish.snapshots import list_snapshots
from sources.i18n import format_number, localise
from tests.test_report import rendered_dom

ROOT = Path(__file__).resolve().parents[1]

#: Appended to a copy of the page: after the charts drew, count the SVG labels that reach past
#: their drawing (cut on the page) and write the count into the DOM.
CLIP_PROBE = """
<script>
window.addEventListener("load", function () {
  var cut = [];
  document.querySelectorAll("figure.chart svg").forEach(function (svg) {
    var box = svg.viewBox.baseVal;
    svg.querySelectorAll("text").forEach(function (t) {
      var b = t.getBBox();
      var m = t.transform.baseVal.consolidate();
      if (m) { return; }  // rotated year ticks: checked by their anchor
      if (b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5) { cut.push(t.textContent); }
    });
  });
  var out = document.createElement("pre");
  out.id = "clip-result";
  out.textContent = JSON.stringify(cut);
  document.body.appendChild(out);
});
</script>
"""


def _snapshot(built, country: str) -> Path:
    return Path(list_snapshots(built.snapshots, country)[-1]["path"])


@pytest.fixture(scope="module")
def pages(built, tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """Morocco's profile in every supported language, rendered by headless Chromium."""
    folder = tmp_path_factory.mktemp("languages")
    found = {}
    for language in ("en", "fr", "ar", "ro"):
        page = write_profile(_snapshot(built, "MAR"), folder / f"MAR.{language}.html", language)
        probe = folder / f"MAR.{language}.probe.html"
        probe.write_text(
            page.read_text(encoding="utf-8").replace("</body>", CLIP_PROBE + "</body>"),
            encoding="utf-8",
        )
        found[language] = (page, rendered_dom(probe, folder))
    return found


def test_every_message_and_catalogue_text_is_translated():
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "translations", "--missing"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 translation(s) missing" in done.stdout


def test_a_message_without_translation_is_listed(tmp_path):
    from babel.messages.catalog import Catalog

    from sources.message_catalogs import missing_messages

    template = Catalog()
    template.add("Key data", locations=[("publish/templates/profile.html.j2", 1)])
    template.add("A sentence nobody translated yet", locations=[("sources/x.py", 7)])
    missing = missing_messages("fr", template)
    assert len(missing) == 1 and "A sentence nobody translated yet" in missing[0]
    assert "sources/x.py:7" in missing[0]


def test_numbers_follow_the_language():
    assert format_number(1234.5, "fr", 1) == "1\u202f234,5"
    assert format_number(1234.5, "en", 1) == "1,234.5"
    assert format_number(1234.5, "ro", 1) == "1.234,5"
    assert format_number(98574, "ar", 0, "MA") == "98.574"  # Latin digits, as Morocco writes
    assert format_number(None, "fr") == "–"


def test_stored_english_messages_are_shown_in_the_readers_language():
    stored = "column 'Valeur': 'abc' is not a number"
    assert localise(stored, "fr") == "colonne 'Valeur' : 'abc' n'est pas un nombre"
    assert localise(stored, "en") == stored
    nested = "low reliability: rests on 5 substantive decisions (fewer than 20)"
    assert localise(nested, "ro") == (
        "fiabilitate scăzută: se bazează pe 5 decizii pe fond (mai puțin de 20)"
    )
    assert localise("a text no template knows", "ar") == "a text no template knows"


def test_each_language_renders_with_its_direction_and_no_label_is_cut(pages):
    for language, (_html, dom) in pages.items():
        direction = "rtl" if language == "ar" else "ltr"
        assert f'<html lang="{language}" dir="{direction}">' in dom, language
        drawn = re.findall(r'<div class="plot"[^>]*><svg ', dom)
        assert len(drawn) >= 15, language
        cut = json.loads(re.search(r'<pre id="clip-result">(.*?)</pre>', dom, re.S)[1])
        assert cut == [], f"{language}: labels cut: {cut[:5]}"
    english, french = pages["en"][1], pages["fr"][1]
    assert "Part A. Migration trends" in english and "Partie A. Tendances migratoires" in french
    assert "Profil migratoire étendu : Maroc" in french
    assert "98\u202f574" in french and "98,574" in english  # UN DESA immigrant stock 2019
    arabic = pages["ar"][1]
    assert "الملف الموسَّع للهجرة: المغرب" in arabic and "الجزء أ. اتجاهات الهجرة" in arabic


def test_readers_see_names_not_codes(pages):
    text = html.unescape(pages["fr"][0].read_text(encoding="utf-8"))
    body = text[text.index("<main") : text.index('<script type="application/json"')]
    body = re.sub(r'data-value-key="[^"]*"', "", body)  # keys for machines, not shown
    for code in ("CEN_EMP_RATE", "un_desa_ims", "census_mar", ">PT<", "EH-partial"):
        assert code not in body, code
    assert "Laâyoune-Sakia El Hamra" in body  # the statistics office's name, without ISO's note
    assert "taux d'emploi" in body and "pour cent" in body
    english = pages["en"][0].read_text(encoding="utf-8")
    part_d = english[english.index('id="part-d"') : english.index('id="subnational"')]
    assert "No ministry or statistics-office file gives this for Morocco yet" in part_d
    assert "Emigration flow" in part_d and "mda_border_emigration_return" not in part_d


@pytest.mark.parametrize(
    "language",
    [
        "en",
        "ar",  # right to left
        # the other left-to-right languages are the same page in other words: with the slow tests
        pytest.param("fr", marks=pytest.mark.slow),
        pytest.param("ro", marks=pytest.mark.slow),
    ],
)
def test_no_serious_accessibility_violation(pages, tmp_path, language):
    """axe-core (Deque's rules, WCAG 2.1 A/AA) in headless Chromium, on every language."""
    import axe_core_python

    axe = (Path(axe_core_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    runner = (
        "<script>"
        + axe.replace("</script>", "<\\/script>")
        + "</script>"
        + """
<script>
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]},
                   resultTypes: ["violations"]}).then(function (result) {
  var out = document.createElement("pre");
  out.id = "axe-result";
  out.textContent = JSON.stringify(result.violations.map(function (v) {
    return {id: v.id, impact: v.impact, nodes: v.nodes.length,
            target: v.nodes[0] && v.nodes[0].target};
  }));
  document.body.appendChild(out);
});
</script>
"""
    )
    written, _dom = pages[language]
    page = tmp_path / f"axe.{language}.html"
    page.write_text(
        written.read_text(encoding="utf-8").replace("</body>", runner + "</body>"),
        encoding="utf-8",
    )
    dom = rendered_dom(page, tmp_path)
    found = re.search(r'<pre id="axe-result">(.*?)</pre>', dom, re.S)
    assert found, f"{language}: axe did not finish"
    violations = json.loads(found[1].replace("&quot;", '"').replace("&amp;", "&"))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{language}: {serious}"


def test_headings_are_in_order(pages):
    levels = [int(h) for h in re.findall(r"<h([1-6])[ >]", pages["en"][1])]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False))


def test_every_chart_has_its_data_table_and_a_csv_download(pages):
    page = pages["en"][0].read_text(encoding="utf-8")
    figures = page.count('<figure class="chart')
    assert figures >= 15
    assert page.count('class="chart-data"') == figures
    downloads = re.findall(r'href="(data:text/csv;charset=utf-8,[^"]+)" download="([^"]+)"', page)
    assert len(downloads) == figures
    from urllib.parse import unquote

    first = unquote(downloads[0][0].split(",", 1)[1]).lstrip("\ufeff").splitlines()
    assert first[0] == "Year,Value,Unit,Note,Series,Source,OBS_STATUS,CONF_STATUS"
    assert first[1].split(",")[0].isdigit() and first[1].split(",")[2] == "persons"


def test_synthetic_values_are_marked_in_snapshot_exports_baselines_and_report(built, pages):
    folder = _snapshot(built, "MAR")
    values = pd.read_parquet(folder / "indicators.parquet")
    census = values[values["source_ids"].map(lambda s: "census_mar" in list(s))]
    desa = values[values["source_ids"].map(lambda s: list(s) == ["un_desa_ims"])]
    assert len(census) and census["synthetic"].all()
    assert len(desa) and not desa["synthetic"].any()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "census_mar" in manifest["synthetic_sources"]
    assert any(i["synthetic"] for i in manifest["inputs"])
    assert not any(i["synthetic"] for i in manifest["inputs"] if i["source_id"] == "un_desa_ims")
    national = pd.read_csv(folder / "exports" / "sdmx" / "national.csv", dtype=str)
    marked = national["COMMENT_OBS"].fillna("").str.startswith("synthetic data")
    assert marked[national["SERIES"] == "CEN_FB_STOCK"].all()
    assert not marked[national["SERIES"] == "IMM_STOCK"].any()
    import yaml

    sdg = folder / "exports" / "open-sdg" / "meta"
    french = yaml.safe_load((sdg / "fr" / "10-7-4.yml").read_text(encoding="utf-8"))
    assert french["indicator_name"].startswith("Proportion de la population qui sont des réfugiés")
    census_meta = yaml.safe_load((sdg / "ar" / "emp-cen-foreign-born.yml").read_text("utf-8"))
    assert census_meta["emp_synthetic"] is True
    assert census_meta["data_footnote"] == "بيانات اصطناعية (عينة مولَّدة) وليست إحصاءات رسمية"
    baselines = pd.read_parquet(folder / "baselines.parquet")
    assert "synthetic" in baselines and baselines["synthetic"].any()
    report = pages["fr"][0].read_text(encoding="utf-8")
    assert report.count('class="synthetic-badge"') >= 5
    assert "données synthétiques (échantillon généré), pas des statistiques officielles" in report


def test_part_c_shows_the_registry_with_its_sources_or_invites_entries(
    built, tmp_path, monkeypatch
):
    page = html.unescape(render_profile(_snapshot(built, "MAR"), "fr"))
    part_c = page[page.index('id="part-c"') : page.index('id="part-d"')]
    assert "Stratégie nationale d'immigration et d'asile (SNIA)" in part_c
    assert "Conseil de gouvernement du 18 décembre 2014" in part_c and "18 décembre 2014" in part_c
    registry = tmp_path / "governance"
    registry.mkdir()
    (registry / "MAR.yaml").write_text("country: MAR\nentries: []\n", encoding="utf-8")
    monkeypatch.setenv("EMP_GOVERNANCE", str(registry))
    empty = render_profile(_snapshot(built, "MAR"), "en")
    part_c = empty[empty.index('id="part-c"') : empty.index('id="part-d"')]
    assert "Nothing is registered for this country yet" in part_c
    (registry / "MAR.yaml").write_text(
        "country: MAR\nentries:\n  - kind: treaty\n    title: {fr: x}\n", encoding="utf-8"
    )
    from sources.governance import GovernanceError, governance_entries

    with pytest.raises(GovernanceError, match=r"MAR.yaml, entry 1: kind"):
        governance_entries("MAR")
    # the profile is still written, with the reason where Part C would be
    page = render_profile(_snapshot(built, "MAR"), "fr")
    part_c = page[page.index('id="part-c"') : page.index('id="part-d"')]
    assert "Le registre de gouvernance de ce pays n'a pas pu être lu" in part_c
    assert "entry 1: kind" in part_c


def test_the_summary_says_what_changed_since_the_previous_edition(built, tmp_path):
    source = _snapshot(built, "MAR")
    previous = tmp_path / "MAR" / "20000101T000000Z"
    shutil.copytree(source, previous)
    for path in previous.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    table = pd.read_parquet(previous / "indicators.parquet")
    stock = (
        (table["indicator_id"] == "IMM_STOCK")
        & (table["ref_area"] == "MAR")
        & (table["time_period"] == "2019")
        & (table["sex"] == "_T")
    )
    table.loc[stock, "obs_value"] = 90_000.0
    table.to_parquet(previous / "indicators.parquet", index=False)
    reseal(previous)
    page = render_profile(source, "en", previous)
    summary = page[page.index('id="summary"') : page.index('id="key-data"')]
    assert "revised; was 90,000" in summary or "changed" in summary
    assert "Compared with the previous edition (20000101T000000Z)" in summary
    first = render_profile(source, "en", None)
    assert "This is the first edition of this profile" in first


def test_emp_check_speaks_french(tmp_path):
    """A ministry focal point's check, in French: the frame, the verdict and the reasons."""
    sample = ROOT / "sources/data/national/MAR_MAE/immatriculations_consulaires_2019.csv"
    text = sample.read_bytes().decode("latin-1").replace("294 326", "abc", 1)
    broken = tmp_path / "MAR_MAE" / sample.name
    broken.parent.mkdir()
    broken.write_bytes(text.encode("latin-1"))
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--lang", "fr", "check", str(broken)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert "vérifié selon mar_consular_registrations" in done.stdout, done.stdout + done.stderr
    assert "ERREUR : ligne 2" in done.stdout or "ERREUR: ligne 2" in done.stdout, done.stdout
    assert "'abc' n'est pas un nombre" in done.stdout
    assert re.search(r"problème\(s\) ; le fichier ne serait PAS chargé", done.stdout)
    wrong = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--lang", "fr", "check", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert wrong.returncode == 2 and "fichier introuvable" in wrong.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--lang", "xx", "check", "--specs"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert unknown.returncode == 2 and "en, fr, ar, ro" in unknown.stderr
