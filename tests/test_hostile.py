"""An attacker's and an unlucky operator's files: a copy still in progress, a file replaced while
read, links out of the inbox, script in names, bad settings, and every `emp` command on every
malformed file, which must end in one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.cli import main
from sources.data_home import public_data_dir
from sources.intake import FileNotReadyError, staged_copy
from sources.readers import unhcr
from sources.samples import NATIONAL_DATA_DIR
from sources.specs import SPECS_DIR, bundled_specs
from tests.test_malformed import CASES
from warehouse.batches import load_batch
from warehouse.db import connect
from warehouse.ingest import ingest_file, ingest_folder
from warehouse.safe_output import neutralise_formulas

BORDER = NATIONAL_DATA_DIR / "MDA_IGPF" / "emigrare_revenire_2019.csv"
UNHCR = public_data_dir() / "unhcr" / "population.csv"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_file_still_being_copied_waits_for_the_next_refresh(tmp_path):
    inbox = tmp_path / "inbox" / "MDA_IGPF"
    inbox.mkdir(parents=True)
    target = inbox / "emigrare_revenire_2018.csv"
    content = BORDER.read_bytes().replace(b"2019,", b"2018,")
    half = len(content) // 3
    target.write_bytes(content[:half])
    stop = threading.Event()

    def slow_copy():  # the rest arrives a little at a time, as over a slow share
        with open(target, "ab") as fh:
            for i in range(half, len(content), 64):
                if stop.is_set():
                    return
                fh.write(content[i : i + 64])
                fh.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=slow_copy)
    writer.start()
    with connect(tmp_path / "emp.duckdb") as con:

        def take():
            return ingest_file(
                con,
                "MDA_IGPF",
                target,
                bundled_specs(),
                tmp_path / "archive",
                tmp_path / "rejected",
                settle_seconds=0.5,
            )

        outcome = take()
        assert outcome.status == "waiting", outcome
        assert "still being written" in outcome.message
        assert target.exists()  # left where it was
        assert con.execute("SELECT count(*) FROM meta.batches").fetchone()[0] == 0
        writer.join()
        stop.set()
        assert target.read_bytes() == content
        done = take()
        assert done.status == "loaded", done
        assert done.batch.sha256 == _sha(content)
        assert Path(done.moved_to).read_bytes() == content  # the archive holds what was read
        assert not target.exists()


def test_a_file_replaced_while_read_is_hashed_as_the_rows_loaded(tmp_path):
    original = tmp_path / "population.csv"
    shutil.copy(UNHCR, original)
    first = original.read_bytes()
    revised = first + b'2023,Ukraine,UKR,"Rep. of Moldova",MDA,1,0,0,-,0,0,0\n'

    def reader_that_sees_a_replacement(path: Path):
        replacement = tmp_path / "incoming.csv"
        replacement.write_bytes(revised)
        os.replace(replacement, original)  # the sender overwrites the file meanwhile
        return unhcr.read_population(path)

    with connect(tmp_path / "emp.duckdb") as con:
        report = load_batch(con, "unhcr_population", original, reader_that_sees_a_replacement)
        loaded = con.execute(
            "SELECT count(*) FROM raw.unhcr_population WHERE batch_id = ?", [report.batch_id]
        ).fetchone()[0]
    assert report.sha256 == _sha(first) != _sha(revised)
    assert loaded == len(unhcr.read_population(UNHCR).frame)  # the rows of the hashed bytes


def test_a_file_rewritten_in_place_during_the_copy_is_left_alone(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * (60 * 1024**2))
    stop = threading.Event()

    def rewrite():
        while not stop.is_set():
            with open(path, "r+b") as fh:
                fh.seek(0, 2)
                fh.write(b"y" * 4096)
            time.sleep(0.001)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        with (
            pytest.raises(FileNotReadyError, match="while it was read|still being written"),
            staged_copy(path, tmp_path / "staging", settle_seconds=0.2),
        ):
            pass
    finally:
        stop.set()
        writer.join()
    assert list((tmp_path / "staging").iterdir()) == []  # no copy left behind


def test_links_in_the_inbox_are_refused_without_reading_them(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text("root:x:0:0:secret-line\n", encoding="utf-8")
    inbox = tmp_path / "inbox"
    (inbox / "MDA_IGPF").mkdir(parents=True)
    (inbox / "MDA_IGPF" / "emigrare_revenire_2017.csv").symlink_to(secret)
    (inbox / "MDA_IGPF" / "emigrare_revenire_2016.csv").symlink_to("/etc/passwd")
    linked = tmp_path / "elsewhere" / "MDA_IGPF"
    linked.mkdir(parents=True)
    kept = linked / "emigrare_revenire_2015.csv"
    shutil.copy(BORDER, kept)
    (inbox / "MAR_MAE").symlink_to(linked, target_is_directory=True)
    with connect(tmp_path / "emp.duckdb") as con:
        outcomes = ingest_folder(
            con, inbox, bundled_specs(), tmp_path / "archive", tmp_path / "rejected"
        )
        batches = con.execute("SELECT count(*) FROM meta.batches").fetchone()[0]
    assert [o.status for o in outcomes] == ["rejected"] * 3
    assert batches == 0
    for outcome in outcomes:
        assert "symbolic link" in outcome.message
        assert "secret-line" not in outcome.message and "root:" not in outcome.message
        assert Path(outcome.moved_to).is_symlink()  # the link moved aside, not its target
    assert secret.read_text(encoding="utf-8").startswith("root:")  # untouched
    assert kept.exists() and kept.read_bytes() == BORDER.read_bytes()  # nothing moved out


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("EMP_SDC_THRESHOLD", "ten", "EMP_SDC_THRESHOLD='ten' is not a whole number"),
        ("EMP_SDC_THRESHOLD", "0", "a positive whole number"),
        ("EMP_SDC_THRESHOLD", "-5", "a positive whole number"),
        ("EMP_SDC_THRESHOLD", "2", "set EMP_SDC_ALLOW_LOW=1"),
        ("EMP_LOCK_WAIT", "soon", "EMP_LOCK_WAIT='soon' is not a number of seconds"),
        ("EMP_COUNTRIES", "XXX", "XXX is not an ISO 3166-1 alpha-3 country code"),
        ("EMP_CENSUS_ENGINE", "hadoop", "the census engine is one of duckdb, spark"),
    ],
)
def test_settings_are_checked_on_start(tmp_path, name, value, words):
    for command in (["snapshots"], ["refresh"]):
        done = _run(command, {"EMP_HOME": str(tmp_path), name: value})
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def _broken_specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, folder)
    (folder / "MAR_MAE" / "consular_registrations.yaml").write_text(
        "id: [not, an, id]\nformat: klingon\n", encoding="utf-8"
    )
    anapec = folder / "MAR_ANAPEC" / "placements_abroad.yaml"
    anapec.write_text(anapec.read_text().replace("LAB_DEPLOYED", "LAB_DEPLOYD"), encoding="utf-8")
    return folder


def test_every_command_against_every_malformed_case_ends_in_one_line(tmp_path, capsys):
    """No traceback from any `emp` command, with a broken spec set or with a hostile file."""
    env = {"EMP_HOME": str(tmp_path / "home"), "EMP_SPECS": str(_broken_specs(tmp_path))}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["check", "--specs"]) == 1
        out = capsys.readouterr().out
        assert "consular_registrations.yaml" in out and "LAB_DEPLOYD" in out
        for args, code in (
            (["snapshots"], 0),
            (["diff", "A", "B"], 2),
            (["report", "--country", "MAR"], 2),
            (["baseline", "--project", "Morocco-32"], 2),
        ):
            assert main(args) == code, args
            captured = capsys.readouterr()
            assert "Traceback" not in captured.err + captured.out
        for label, case in CASES.items():
            folder = tmp_path / "files" / case.ministry
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / case.name.replace("\\", "_")
            path.write_bytes(case.content())
            code = main(["check", str(path)])
            captured = capsys.readouterr()
            assert "Traceback" not in captured.err + captured.out, label
            assert code in (0, 1), (label, code, captured.err)
            misplaced = any("folder of" in words for words in case.message)
            if (case.status == "rejected" and not misplaced) or case.quarantined:
                assert code == 1, (label, captured.out)
                assert any(line.startswith("ERROR") for line in captured.out.splitlines()), label
            path.unlink()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_validation_report_escapes_script_in_file_names(tmp_path):
    from warehouse.report import validation_report, write_report

    inbox = tmp_path / "inbox" / "MAR_ANAPEC"
    inbox.mkdir(parents=True)
    (inbox / "<script>alert(1)<\\script>.csv").write_bytes(b"a,b\n1,2\n")
    (inbox / "<img src=x onerror=alert(2)>.csv").write_bytes(b"a,b\n1,2\n")
    from sources.specs import spec_set
    from warehouse.held_back import record_held_back

    with connect(tmp_path / "emp.duckdb") as con:
        outcomes = ingest_folder(
            con, tmp_path / "inbox", bundled_specs(), tmp_path / "archive", tmp_path / "rejected"
        )
        record_held_back(con, spec_set(), outcomes)
        report = validation_report(con)
    html, _ = write_report(report, tmp_path / "reports")
    page = html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;\\script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def test_csv_exports_neutralise_formula_leading_cells():
    frame = pd.DataFrame(
        {
            "label": ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "Moldova", "-x"],
            "v": [1, 2, 3, 4, -5],
        }
    )
    out = neutralise_formulas(frame)
    assert out["label"].tolist() == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'@SUM(A1)",
        "Moldova",
        "'-x",
    ]
    assert out["v"].tolist() == [1, 2, 3, 4, -5]  # numbers stay numbers


@pytest.mark.slow
def test_no_third_party_data_needed_in_the_repository_to_list_what_is_missing(tmp_path):
    done = _run(["refresh"], {"EMP_HOME": str(tmp_path), "EMP_SHARED_DATA": str(tmp_path / "no")})
    assert "Third-party data read from" in done.stderr and "missing" in done.stderr
    assert "Traceback" not in done.stderr
    with duckdb.connect(str(tmp_path / "emp.duckdb"), read_only=True) as con:
        held = con.execute("SELECT reason FROM meta.held_back WHERE origin = 'public'")
        reasons = [r for (r,) in held.fetchall()]
    assert len(reasons) == 14  # every publisher series the catalogue reads
    assert all(r.startswith("no release of ") and "https://" in r for r in reasons)


def test_a_file_dropped_beside_the_ministry_folders_is_refused_not_ignored(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    loose = inbox / "emigrare_revenire_2019.csv"
    shutil.copy(BORDER, loose)
    with connect(tmp_path / "emp.duckdb") as con:
        (outcome,) = ingest_folder(
            con, inbox, bundled_specs(), tmp_path / "archive", tmp_path / "rejected"
        )
    assert outcome.status == "rejected" and "inbox/<MINISTRY>/" in outcome.message
    assert Path(outcome.moved_to).read_bytes() == BORDER.read_bytes()
    assert Path(outcome.moved_to).parent == tmp_path / "rejected" / "_unsorted"


def test_another_process_holding_the_warehouse_gets_our_message_at_once(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, time\n"
            f"c = duckdb.connect({str(tmp_path / 'emp.duckdb')!r})\n"
            "c.execute('CREATE TABLE t (x INT)')\nprint('ready', flush=True)\ntime.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        done = _run(["refresh"], {"EMP_HOME": str(tmp_path), "EMP_LOCK_WAIT": "2"})
        assert done.returncode == 3, done.stderr[-500:]
        assert "is in use by another refresh" in done.stderr and "EMP_LOCK_WAIT" in done.stderr
        assert "IOException" not in done.stderr and "Traceback" not in done.stderr
        assert time.monotonic() - started < 60
    finally:
        holder.kill()
        holder.wait()


def test_every_inbox_entry_gets_a_fate(tmp_path):
    """Names of any legal length, future modification times, sub-folders, hidden files, folders
    and FIFOs: each is loaded, left waiting with a reason or moved to rejected/ with a reason;
    none is passed over, none stops another."""
    from sources.inbox import NAME_MAX
    from sources.specs import bundled_specs
    from warehouse.db import connect
    from warehouse.ingest import ingest_folder
    from warehouse.releases import take_in_releases

    inbox = tmp_path / "inbox"
    border = inbox / "MDA_IGPF"
    border.mkdir(parents=True)
    stem = "emigrare_revenire_"
    long_name = stem + "x" * (NAME_MAX - len(stem) - len(".csv")) + ".csv"
    assert len(long_name.encode()) == NAME_MAX
    data = (NATIONAL_DATA_DIR / "MDA_IGPF" / "emigrare_revenire_2019.csv").read_bytes()
    (border / long_name).write_bytes(data)
    future = border / "emigrare_revenire_2018.csv"
    future.write_bytes(data.replace(b"2019,", b"2018,"))
    os.utime(future, (4_000_000_000, 4_000_000_000))  # the year 2096
    (border / "older").mkdir()
    (border / "older" / "emigrare_revenire_2017.csv").write_bytes(data)
    (border / ".~lock.emigrare_revenire_2019.csv#").write_text("x", encoding="utf-8")
    os.mkfifo(border / "emigrare_revenire_2016.csv")
    undecodable = os.path.join(os.fsencode(border), b"emigrare_revenire_2015\xff.csv")
    with open(undecodable, "wb") as handle:  # a name written on a system of another encoding
        handle.write(data)
    os.mkfifo(inbox / "stray")
    (inbox / "PUBLIC").mkdir()
    os.mkfifo(inbox / "PUBLIC" / "population.csv")
    (inbox / "PUBLIC" / ".partial.csv").write_text("x", encoding="utf-8")
    settled = time.time() - 3600
    for path in [*inbox.rglob("*"), inbox]:
        if path != future:
            os.utime(path, (settled, settled), follow_symlinks=False)
    started = time.monotonic()
    with connect(tmp_path / "emp.duckdb") as con:
        outcomes = ingest_folder(
            con, inbox, bundled_specs(), tmp_path / "archive", tmp_path / "rejected", 60.0
        )
        releases = take_in_releases(con, tmp_path / "no-public", inbox, 60.0)
        notes = con.execute(
            "SELECT notes FROM meta.batches WHERE file_name = 'emigrare_revenire_2018.csv'"
        ).fetchone()[0]
    assert time.monotonic() - started < 60  # the future time is not waited for
    fate = {o.file: (o.status, o.message or "") for o in outcomes}
    assert fate[long_name][0] == "loaded"
    assert fate["emigrare_revenire_2018.csv"][0] == "loaded"
    assert any("in the future" in n for n in notes)
    assert fate["older"][0] == "rejected" and "is a folder" in fate["older"][1]
    assert fate[".~lock.emigrare_revenire_2019.csv#"][0] == "waiting"
    assert fate["emigrare_revenire_2016.csv"][0] == "rejected"
    assert "not a regular file" in fate["emigrare_revenire_2016.csv"][1]
    assert fate["stray"][0] == "rejected"
    assert fate["emigrare_revenire_2015\ufffd.csv"][0] == "rejected"
    assert "not UTF-8" in fate["emigrare_revenire_2015\ufffd.csv"][1]
    public = {Path(o.file).name: o.status for o in releases}
    assert public == {"population.csv": "rejected", ".partial.csv": "waiting"}
    left = sorted(p.name for p in border.iterdir())
    assert left == [".~lock.emigrare_revenire_2019.csv#"]
    archived = [p.name for p in (tmp_path / "archive" / "MDA_IGPF").iterdir()]
    assert all(len(name.encode()) <= NAME_MAX for name in archived)
    assert any(name.endswith(".report.json") for name in archived) and len(archived) == 4


#: spec files that cannot be used, each with words its one-line reason must hold
BROKEN_SPEC_FILES = {
    "not_utf8": (b"id: x\ndataset: \xe9t\xe9\n", "not UTF-8"),
    "not_yaml": (b"id: x\n  : - [\n", "not valid YAML"),
    "too_deep": (b"id: x\nx: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nested"),
    "alias_bomb": (
        b"id: x\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n".encode()
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "alias bomb",
    ),
    "look_ahead": (
        b"id: x\nperiod: {frequency: year, from_filename: '(?=a)(?P<year>\\d{4})'}\n",
        "look-arounds",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_SPEC_FILES))
def test_a_spec_that_cannot_be_used_is_held_back_alone(tmp_path, case):
    """Undecodable, unparsable, nested too deep or with a pattern RE2 refuses: that spec is
    held back with one line; checking an unrelated file works as before."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    content, words = BROKEN_SPEC_FILES[case]
    (specs / "MAR_OC" / "broken.yaml").write_bytes(content)
    env = {"EMP_HOME": str(tmp_path / "home"), "EMP_SPECS": str(specs)}
    unrelated = NATIONAL_DATA_DIR / "MDA_IGPF" / "emigrare_revenire_2019.csv"
    done = _run(["check", str(unrelated)], env)
    assert done.returncode == 0 and "would load" in done.stdout, done.stderr
    listed = _run(["check", "--specs"], env)
    assert listed.returncode == 1 and "Traceback" not in listed.stderr + listed.stdout
    reason = [line for line in listed.stdout.splitlines() if "broken.yaml" in line]
    assert reason and words in reason[0], listed.stdout


BORDER_NAME = "emigrare_revenire_2019.csv"


def test_a_pattern_that_would_backtrack_matches_in_linear_time(tmp_path):
    """`(?P<year>(\\d+)+)` backtracks exponentially in Python's engine on a crafted name; specs'
    patterns are matched by RE2, so checking such a name takes no longer than any other."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    spec = specs / "MDA_IGPF" / "border_emigration_return.yaml"
    text = spec.read_text(encoding="utf-8").replace(
        "period:\n  frequency: year\n  column: Anul\n",
        "period:\n  frequency: year\n  from_filename: '_(?P<year>(\\d+)+)_x'\n",
    )
    spec.write_text(text, encoding="utf-8")
    folder = tmp_path / "MDA_IGPF"
    folder.mkdir()
    crafted = folder / ("emigrare_revenire_" + "1" * 64 + ".csv")
    crafted.write_bytes(
        (NATIONAL_DATA_DIR / "MDA_IGPF" / "emigrare_revenire_2019.csv").read_bytes()
    )
    started = time.monotonic()
    done = _run(["check", str(crafted)], {"EMP_HOME": str(tmp_path), "EMP_SPECS": str(specs)})
    assert time.monotonic() - started < 60
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "period" in done.stdout


def _published_copy(built, tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the session's snapshots, and Moldova's latest edition in it."""
    snapshots = tmp_path / "snapshots"
    shutil.copytree(built.snapshots, snapshots)
    for path in snapshots.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return snapshots, sorted((snapshots / "MDA").iterdir())[-1]


def _every_reader(snapshots: Path, capsys) -> list[tuple[int, str]]:
    folder = ["--snapshots", str(snapshots)]
    said = []
    for args in (
        ["explain", "EMI_RATE.EMI_RATE.MDA._T.2017", *folder],
        ["report", "--country", "MDA", "--output", str(snapshots.parent / "p.html"), *folder],
        ["baseline", "--project", "Moldova-29", *folder],
    ):
        code = main(args)
        captured = capsys.readouterr()
        said.append((code, " ".join((captured.err + captured.out).split())))
    return said


def test_a_value_changed_in_a_published_edition_is_refused_by_every_reader(built, tmp_path, capsys):
    snapshots, edition = _published_copy(built, tmp_path)
    table = pd.read_parquet(edition / "indicators.parquet")
    table.loc[table.index[0], "obs_value"] = table.loc[table.index[0], "obs_value"] * 10
    table.to_parquet(edition / "indicators.parquet")
    for code, words in _every_reader(snapshots, capsys):
        assert code == 2 and "indicators.parquet does not match the SHA-256" in words, words
        assert "Traceback" not in words


def test_a_forged_manifest_is_refused(built, tmp_path, capsys):
    """Inputs marked real while values rest on synthetic sources, with the checksums left as
    they were: refused; fake checksums: refused too."""
    snapshots, edition = _published_copy(built, tmp_path)
    manifest_path = edition / "manifest.json"
    original = manifest_path.read_text(encoding="utf-8")
    manifest = json.loads(original)
    assert manifest["synthetic_sources"]  # Moldova's bundled ministry samples
    manifest["synthetic_sources"] = []
    for found in manifest["inputs"]:
        found["synthetic"] = False
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    for code, words in _every_reader(snapshots, capsys):
        assert code == 2 and "synthetic" in words, words
    manifest = json.loads(original)
    manifest["files"][0]["sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    code, words = _every_reader(snapshots, capsys)[0]
    assert code == 2 and "does not match the SHA-256" in words


def test_outputs_inside_the_published_folders_are_refused(built, tmp_path, capsys):
    snapshots, edition = _published_copy(built, tmp_path)
    target = edition / "indicators.parquet"
    before = target.read_bytes()
    args = ["baseline", "--project", "Moldova-29", "--format", "parquet", "--output", str(target)]
    assert main([*args, "--snapshots", str(snapshots)]) == 2
    assert "where EMP publishes" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_a_manifest_that_does_not_parse_stops_no_command(built, tmp_path, capsys, monkeypatch):
    """A damaged manifest leaves its edition out of every list (no command fails on it) and is
    named as refused where the next edition is published."""
    from publish.snapshots import latest_manifest

    snapshots, edition = _published_copy(built, tmp_path)
    (edition / "manifest.json").write_text("{broken", encoding="utf-8")
    monkeypatch.setenv("EMP_SNAPSHOTS", str(snapshots))
    assert main(["snapshots"]) == 0
    assert main(["report", "--country", "GEO", "--output", str(tmp_path / "g.html")]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out and "MDA" not in captured.out
    previous, refused = latest_manifest(snapshots / "MDA")
    assert previous is None and "its manifest cannot be read" in refused
