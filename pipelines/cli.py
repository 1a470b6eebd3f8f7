"""The `emp` command line: refresh the profiles, list the published snapshots."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from publish.approvals import ApprovalLogError, compared_with
from publish.snapshot_check import (
    PublishedOutputError,
    TamperedSnapshotError,
    refuse_published_output,
)
from sources.i18n import N_, _, localise

if TYPE_CHECKING:
    from warehouse.settings import Settings


def _load_heavy_modules() -> None:
    """The warehouse modules (pandas, DuckDB, Dagster behind them), imported once a command
    runs, so `emp --help` and a wrong call answer at once."""
    global Settings, WarehouseBusyError
    from warehouse.errors import WarehouseBusyError
    from warehouse.settings import Settings


def list_snapshots(*args, **kwargs) -> list[dict]:
    """The published snapshots (warehouse/snapshot_index.py)."""
    from publish.snapshot_index import list_snapshots as listed

    return listed(*args, **kwargs)


console = Console(stderr=True)
#: Words used inside formatted lines (gettext marks them here, where Babel can see them).
WORDS = {
    "failed": lambda: _("failed"),
    "new release": lambda: _("new release"),
    "warning": lambda: _("warning"),
    "held back": lambda: _("held back"),
    "FAILED": lambda: _("FAILED"),
    "all steps passed": lambda: _("all steps passed"),
    "ERROR": lambda: _("ERROR"),
}


def cmd_refresh(args: argparse.Namespace) -> int:
    """Exit 0 when everything passed, 4 when every country was published but some files or
    specs were held back, 1 when a step or a blocking check failed (or a country got no
    snapshot), 3 when another refresh holds the warehouse."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    settings = Settings.from_env()
    countries = [c.upper() for c in args.country] or list(settings.countries)
    console.print(
        _(
            "Refreshing {countries} into {database}",
            countries=", ".join(countries),
            database=settings.database,
        )
    )
    _report_data_folder(settings)
    started = time.monotonic()
    if not args.force and _known_countries(countries, settings):
        # nothing changed since the last complete refresh: answer without starting the pipeline
        from pipelines.refresh_summary import plan_summary, summary, versions
        from warehouse.fingerprints import plan_refresh

        plan = plan_refresh(settings, countries)
        if plan.nothing_changed:
            before = versions(settings, countries)
            done = summary(settings, countries, [], before, time.monotonic() - started, countries)
            return _refresh_outcome({**done, **plan_summary(plan), "new_releases": []}, args)

    from pipelines.instance import use_dagster_home
    from pipelines.refresh import run_refresh, step_count

    use_dagster_home(settings.home)  # runs stay visible in `make dev`
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        disable=args.json,
    )
    task = progress.add_task("starting", total=step_count())

    def on_step(kind: str, step: str) -> None:
        name = step.replace("__", "/")
        if kind == "STEP_START":
            progress.update(task, description=name)
        else:
            progress.advance(task)
            if kind == "STEP_FAILURE":
                progress.console.print(f"[red]{WORDS['failed']()}[/red] {name}")

    try:
        with progress:
            summary = run_refresh(settings, countries, on_step, force=args.force)
            progress.update(task, description="done", completed=step_count())
    except WarehouseBusyError as err:
        print(f"emp refresh: {one_line(err)}", file=sys.stderr)
        return 3
    return _refresh_outcome(summary, args)


def input_names(groups: Sequence[str]) -> list[str]:
    """Input groups (warehouse/fingerprints.py) in words: whose files changed."""
    from sources.i18n import current_language
    from sources.place_names import place_name

    language = current_language()
    names = []
    for group in groups:
        kind, _sep, country = group.partition("/")
        where = _("several countries") if country == "*" else place_name(country, language)
        if kind == "national":
            names.append(_("ministry and statistics-office files of {country}", country=where))
        elif kind == "census":
            names.append(_("census microdata of {country}", country=where))
        elif kind == "international":
            names.append(_("publishers' releases and reference data"))
        elif kind == "code":
            names.append(_("EMP's code, catalogue and bundled specs"))
        else:
            names.append(_("specs, baseline requests and settings kept apart"))
    return names


def _known_countries(countries: list[str], settings: Settings) -> bool:
    return set(countries) <= set(settings.countries)


def _refresh_outcome(summary: dict, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        site = site_folder(Settings.from_env().snapshots) / "index.html"
        _print_summary({**summary, "site": str(site) if site.is_file() else None})
    if not summary["success"]:
        return 1
    return 4 if summary["held_back"] else 0


def _report_data_folder(settings: Settings) -> None:
    """Say which third-party data folder is read, and what is missing or differs from the
    recorded release."""
    from sources.data_home import data_status

    status = data_status()
    console.print(
        _(
            "Third-party data read from {shared} (public files: {public})",
            shared=status["shared"],
            public=status["public"],
        )
    )
    if status["missing"]:
        console.print(
            _(
                "{missing} of {recorded} recorded files are missing (set EMP_SHARED_DATA or "
                "EMP_PUBLIC_DATA to where they lie; the profiles are built without them):",
                missing=len(status["missing"]),
                recorded=status["recorded"],
            ),
            style="yellow",
        )
        for path in status["missing"]:
            console.print("  " + _("missing {path}", path=path))
    for path in status["changed"]:
        console.print(
            _(
                "note: {path} differs from the release recorded in sources/data/provenance.csv "
                "(a new edition?)",
                path=path,
            ),
            style="yellow",
        )


def _print_summary(summary: dict) -> None:
    table = Table(title=_("Snapshots written ({seconds} s)", seconds=summary["seconds"]))
    for column in (
        _("country"),
        _("version"),
        _("indicators"),
        _("rows"),
        _("gaps"),
        _("warnings"),
        _("path"),
    ):
        table.add_column(column)
    for country, snap in summary["snapshots"].items():
        table.add_row(
            country,
            snap["version"] + (" " + _("(unchanged)") if snap.get("unchanged") else ""),
            str(snap["indicators"]),
            str(snap["rows"]),
            str(len(snap["gaps"])),
            str(len(snap["checks_warned"])),
            snap["path"],
        )
    Console(width=200).print(table)
    from indicators.catalogue import catalogue

    console.print(
        _(
            "{count} indicators in the catalogue; `gaps` counts those a country's edition has "
            "no value for, and Part D of its profile says why and which source would give them",
            count=len(catalogue()),
        )
    )
    for release in summary.get("new_releases", []):
        console.print(
            f"[green]{WORDS['new release']()}[/green] {escape(release['series'])}: "
            f"{escape(release['vintage'])} ({escape(release['file'])})"
        )
    if summary.get("nothing_changed"):
        console.print(
            _(
                "nothing changed since the last refresh (inputs, specs, catalogue and code have "
                "the same SHA-256): no step was run (emp refresh --force runs them all)"
            )
        )
    elif summary.get("skipped"):
        console.print(
            _(
                "skipped: {countries}: nothing they rest on changed since the last refresh "
                "(changed: {changed})",
                countries=", ".join(summary["skipped"]),
                changed="; ".join(input_names(summary.get("changed_inputs") or [])),
            )
        )
    if summary.get("unchanged") and not summary.get("nothing_changed"):
        console.print(
            _(
                "unchanged: {countries}: the content equals the latest version, so no new "
                "version was written (emp refresh --force writes one)",
                countries=", ".join(summary["unchanged"]),
            )
        )
    drafts = [c for c, snap in summary["snapshots"].items() if not snap.get("unchanged")]
    if drafts:
        console.print(
            _(
                "drafts: {countries}: read them in reports/profile/<ISO3>/draft.html; nothing is "
                "public until the working group approves an edition (emp approve --country ISO3 "
                "--version V --by NAME)",
                countries=", ".join(drafts),
            )
        )
    if summary.get("site"):
        console.print(_("the public site: open {path} in a browser", path=summary["site"]))
    for warning in summary["warnings"]:
        console.print(f"[yellow]{WORDS['warning']()}[/yellow] {escape(localise(warning))}")
    for failure in summary["failures"]:
        console.print(f"[red]{WORDS['failed']()}[/red] {escape(localise(failure))}")
    for item in summary["held_back"]:
        where = _("every profile") if item["country"] == "*" else item["country"]
        console.print(
            f"[yellow]{WORDS['held back']()}[/yellow] ({where}) {escape(localise(item['reason']))}"
        )
    if not summary["success"]:
        verdict = f"[red]{WORDS['FAILED']()}[/red]"
    elif summary["held_back"]:
        verdict = (
            "[yellow]"
            + _("published, {count} held back", count=len(summary["held_back"]))
            + "[/yellow]"
        )
    else:
        verdict = f"[green]{WORDS['all steps passed']()}[/green]"
    console.print(
        verdict
        + ": "
        + _(
            "{published} of {countries} countries published, {warnings} warnings, "
            "{failures} failures",
            published=len(summary["snapshots"]),
            countries=len(summary["countries"]),
            warnings=len(summary["warnings"]),
            failures=len(summary["failures"]),
        )
    )


def cmd_snapshots(args: argparse.Namespace) -> int:
    from publish.approvals import with_status
    from publish.report import EDITION_STATUSES

    settings = Settings.from_env()
    found = list_snapshots(settings.snapshots, args.country.upper() if args.country else None)
    found = with_status(settings.snapshots, found)
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        console.print(
            _("No snapshots under {folder}; run `emp refresh` first.", folder=settings.snapshots)
        )
        return 0
    table = Table(title=_("Snapshots under {folder}", folder=settings.snapshots))
    columns = (_("country"), _("version"), _("made"), _("status"), _("approved by"), _("rows"))
    for column in (*columns, _("path")):
        table.add_column(column)
    for snap in found:
        table.add_row(
            snap["country"],
            snap["version"],
            snap["created_at"],
            _(EDITION_STATUSES[snap["status"]]),
            f"{snap['approved_by']} ({snap['approved_at']})" if snap["approved_by"] else "",
            str(snap["rows"]),
            str(Path(snap["path"])),
        )
    Console().print(table)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """`emp check FILE`: the file read by its spec and checked, nothing loaded.
    `emp check --specs`: every spec and the catalogue links. Exit 0 fine, 1 problems, 2 wrong
    call."""
    from sources.check import check_file, check_release, plain_words, resembling, spec_matches
    from sources.publishers.registry import NotRecognisedError
    from sources.specs import spec_set

    settings = Settings.from_env()
    found = spec_set(settings.specs)
    if args.specs:
        return _check_specs(found, args.json)
    if not args.file:
        print(_("emp check: give a FILE to check, or --specs"), file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(_("emp check: {path}: no such file", path=path), file=sys.stderr)
        return 2
    held = found.held_back_for(path.parent.name, path.name) or next(
        (h for h in found.held_back if h.id and h.id == args.source), None
    )
    if not args.source and held is None and not spec_matches(path, found.specs):
        meant = resembling(path, found.specs)
        if meant is not None:
            reason = N_(
                "{name}: no dataset takes a file of this name; it looks like {dataset} (files "
                "named {pattern}): rename it as that dataset names its files, or check it as it "
                "is with --source {spec} --period P"
            ).format(
                name=path.name, dataset=meant.dataset, pattern=meant.file_pattern, spec=meant.id
            )
            if args.json:
                print(json.dumps({"file": str(path), "would_load": False, "problems": [reason]}))
            else:
                print(f"{WORDS['ERROR']()}: {localise(reason)}")
            return 1
        try:
            return _print_release_checks(check_release(path), args.json)
        except NotRecognisedError as err:
            reason = N_(
                "{problem}; and no source spec matches the file name {name!r} (name the "
                "dataset with --source, see `sources/specs/`)"
            ).format(problem=err, name=path.name)
            if args.json:
                print(json.dumps({"file": str(path), "would_load": False, "problems": [reason]}))
            else:
                print(f"{WORDS['ERROR']()}: {localise(reason)}")
            return 1
    try:
        report = check_file(path, found.specs, args.source, period=args.period)
    except KeyError as err:
        if held is None:
            print(f"emp check: {err.args[0]}", file=sys.stderr)
            return 2
        report = None
    if report is not None and report.source is None and held is not None:
        report = None
    if report is None:
        message = N_("{file}: its spec cannot be used until it is fixed: {reason}").format(
            file=path.name, reason=held.reason
        )
        if args.json:
            print(json.dumps({"file": str(path), "would_load": False, "problems": [message]}))
        else:
            print(f"{WORDS['ERROR']()}: {localise(message)}")
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(
            _(
                "{file}: checked against {source}, {rows} rows read",
                file=path.name,
                source=report.source or _("no spec"),
                rows=report.rows_read,
            )
        )
        for line in plain_words(report):
            print(line)
        verdict = _verdict(len(report.problems), "load" if report.would_load else "fail")
        print(verdict)
    return 0 if report.would_load else 1


def _print_release_checks(reports: list, as_json: bool) -> int:
    """What `emp check` found in a publisher's file: one block per series it holds."""
    from sources.check import plain_words

    if as_json:
        print(json.dumps([r.as_dict() for r in reports], indent=2, ensure_ascii=False))
    for report in reports:
        if as_json:
            continue
        name = Path(report.file).name
        if report.publisher:
            print(
                _(
                    "{name}: {publisher}, {series} (series {source}); edition: {edition}; "
                    "{rows} rows read, {values} values would load",
                    name=name,
                    publisher=report.publisher,
                    series=report.series,
                    source=report.source,
                    edition=report.edition,
                    rows=report.rows_read,
                    values=report.values or 0,
                )
            )
        elif report.series:
            print(f"{name}: {report.series}")
        else:
            print(_("{name}: could not be read", name=name))
        for line in plain_words(report):
            print(line)
    fatal = [r for r in reports if not r.would_load and r.publisher or not r.series]
    if not as_json:
        outcome = "fail" if fatal else "load"
        if not fatal and not any(r.publisher for r in reports):
            outcome = "nothing"
        print(_verdict(sum(len(r.problems) for r in reports), outcome))
    return 1 if fatal else 0


def _verdict(problems: int, outcome: str) -> str:
    """The last line of `emp check`, in the user's language."""
    if outcome == "load":
        return _("{count} problem(s); the file would load.", count=problems)
    if outcome == "nothing":
        return _("{count} problem(s); the file holds nothing to load.", count=problems)
    return _("{count} problem(s); the file would NOT load.", count=problems)


def _check_specs(found, as_json: bool) -> int:
    """Every spec file and the catalogue's links to them."""
    from indicators.catalogue import CatalogueError, load_catalogue

    problems = list(found.problems())
    try:
        load_catalogue(specs=found.specs, held_back=found.held_back_ids)
    except CatalogueError as err:
        problems += [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
    if as_json:
        print(json.dumps({"specs": len(found.specs), "problems": problems}, indent=2))
    else:
        print(
            _(
                "{specs} spec(s) in force, {held} held back",
                specs=len(found.specs),
                held=len(found.held_back),
            )
        )
        for problem in problems:
            print(f"{WORDS['ERROR']()}: {localise(problem)}")
        print(_("the specs and the catalogue are consistent") if not problems else "")
    return 1 if problems else 0


def cmd_status(args: argparse.Namespace) -> int:
    """`emp status`: per ministry and dataset, what the register says is owed and what arrived
    (the warehouse as it is now, or an edition as it was published), with completeness and
    timeliness. Exit 0, 1 when something due is overdue or held back, 2 wrong call."""
    from datetime import date

    from publish.reporting_status import edition_status, live_status, print_status
    from sources.reporting import registered_countries

    settings = Settings.from_env()
    countries = [c.upper() for c in args.country] or registered_countries(settings.specs)
    if args.edition and len(countries) != 1:
        print(_("emp status: --edition needs one --country"), file=sys.stderr)
        return 2
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(
            _("emp status: {value} is not a date (YYYY-MM-DD)", value=args.as_of), file=sys.stderr
        )
        return 2
    if args.edition:
        found = {countries[0]: edition_status(settings.snapshots, countries[0], args.edition)}
    else:
        found = live_status(settings, countries, as_of)
    return print_status(found, args.json)


def cmd_data_template(args: argparse.Namespace) -> int:
    """`emp template --spec ID`: the dataset's data-collection workbook, built from its spec,
    pre-filled from the previous edition the warehouse holds."""
    from datetime import UTC, datetime

    from sources.i18n import current_language, normalise_language
    from sources.specs import spec_set
    from sources.templates import build_template, template_name, write_template
    from warehouse.db import connect
    from warehouse.reporting import deadline_for, previous_records

    if args.spec == "project_reports":  # a project's logframe report is a template too
        if not args.project or not args.period:
            print(
                _("emp template: a logframe report needs --project and --period"), file=sys.stderr
            )
            return 2
        args.output = args.output or f"logframe_{args.project}_{args.period}.xlsx"
        args.actual = None
        return cmd_template(args)
    settings = Settings.from_env()
    specs = spec_set(settings.specs).specs
    if args.spec not in specs:
        print(
            _(
                "emp template: no spec {spec}; known: {known}",
                spec=args.spec,
                known=", ".join(sorted(specs)),
            ),
            file=sys.stderr,
        )
        return 2
    spec = specs[args.spec]
    language = normalise_language(args.template_lang or "") or current_language()
    previous = []
    if Path(settings.database).exists():
        with connect(Path(settings.database), read_only=True) as con:
            previous = previous_records(con, spec.id)
    period = args.period or str(datetime.now(UTC).year - 1)
    template = build_template(spec, period, previous)
    deadline = deadline_for(settings.specs, spec.id, template.period)
    output = Path(args.output) if args.output else Path(template_name(spec, template.period))
    write_template(template, output, language, deadline.isoformat() if deadline else None)
    console.print(
        _(
            "Template for {dataset} ({period}): {path}; {rows} rows filled in from the previous "
            "edition",
            dataset=spec.dataset,
            period=template.period,
            path=output,
            rows=len(template.rows),
        )
    )
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from datetime import date

    from sources.projects import write_logframe

    path = write_logframe(
        Path(args.output),
        args.project,
        args.period,
        date.today(),
        "to be filled in",
        [],
        args.actual or [args.period],
    )
    console.print(_("Blank logframe report for {project}: {path}", project=args.project, path=path))
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    """A project's baseline from the published snapshots alone; nothing is written to them.
    Exit 0, 2 wrong call or nothing found, 5 a panel that cannot identify an effect."""
    from datetime import date

    from indicators.baselines import BaselineRequestError, load_request
    from publish.snapshot_baselines import (
        BaselineNotFoundError,
        choose_snapshot,
        frozen_request,
        frozen_tables,
        panel_notes,
        panel_problems,
        render,
        render_dictionary,
        snapshot_identity,
        tables_for_request,
        with_names,
    )
    from sources.i18n import current_language

    settings = Settings.from_env()
    snapshots_dir = Path(args.snapshots) if args.snapshots else settings.snapshots
    if args.output:
        refuse_published_output(args.output, _published_folders(settings, snapshots_dir))
    try:
        request = load_request(Path(args.request)) if args.request else None
        project = request.id if request else args.project
        if not project:
            raise SystemExit("emp baseline: give --project or --request")
        if args.compare:
            return _compare_baselines(args, snapshots_dir, project, request)
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
        chosen = choose_snapshot(
            snapshots_dir,
            project,
            version=args.snapshot,
            as_of=as_of,
            country=request.country if request else None,
        )
        folder = Path(chosen["path"])
        tables = tables_for_request(folder, request) if request else frozen_tables(folder, project)
        asked = request or frozen_request(folder, project)
    except (BaselineNotFoundError, BaselineRequestError, ValueError) as err:
        console.print(f"[red]emp baseline:[/red] {err}")
        return 2
    frame = tables[args.table]
    if args.table in ("panel", "pretrends") and asked is not None:
        problems = panel_problems(tables["panel"], asked)
        if problems:
            console.print(
                "[red]emp baseline:[/red] "
                + _(
                    "the panel of {project} cannot identify an effect; nothing is written:",
                    project=project,
                )
            )
            for problem in problems:
                console.print(f"  {escape(problem)}")
            return 5
    frame = with_names(frame, current_language())
    console.print(
        _(
            "{project}: {table} from snapshot {country}/{version} (published {published}), "
            "{rows} rows",
            project=project,
            table=args.table,
            country=chosen["country"],
            version=chosen["version"],
            published=chosen["created_at"],
            rows=len(frame),
        )
    )
    if args.table == "baselines" and "status" in frame:
        counts = frame["status"].value_counts().to_dict()
        console.print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    clusters = _say_clusters(tables["panel"])
    if args.table == "donors" and asked is not None:
        from publish.snapshot_baselines import donors_left_out

        for area, donor, missing in donors_left_out(folder, tables["panel"], asked):
            console.print(
                "  "
                + _(
                    "{donor} is not a donor for {area}: no value in {missing} of its periods",
                    donor=donor,
                    area=area,
                    missing=missing,
                )
            )
    about = {
        "table": args.table,
        "request": asked.model_dump(mode="json") if asked is not None else {"id": project},
        "snapshot": snapshot_identity(folder),
        "design": clusters,
    }
    notes = panel_notes(tables["panel"]) if args.table in ("panel", "donors") else {}
    data = render(frame, args.format, about, notes)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_bytes(data)
        console.print("  " + _("written to {path}", path=args.output))
        if args.format == "csv":
            sidecar = Path(f"{args.output}.dictionary.csv")
            sidecar.write_bytes(render_dictionary(list(frame.columns), notes))
            console.print("  " + _("data dictionary: {path}", path=sidecar))
    elif args.format == "parquet":
        console.print("[red]emp baseline:[/red] " + _("--format parquet needs --output FILE"))
        return 2
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _say_clusters(panel) -> list[dict]:
    """How many clusters (areas) and treated clusters each series of the panel has, said on the
    console with a warning where cluster-robust standard errors cannot be trusted."""
    from indicators.evaluation import FEW_CLUSTERS, FEW_TREATED_CLUSTERS, design

    if panel.empty or "status" not in panel:
        return []
    found = design(panel)
    for row in found.itertuples():
        console.print(
            "  "
            + _(
                "{indicator} ({series}): {clusters} areas (clusters), {treated} of them treated",
                indicator=row.indicator_id,
                series=row.series,
                clusters=row.clusters,
                treated=row.treated_clusters,
            )
        )
        if row.few_clusters:
            console.print(
                "  [yellow]"
                + _(
                    "warning: fewer than {treated} treated clusters or {clusters} clusters: "
                    "cluster-robust standard errors are far too small here; use a wild cluster "
                    "bootstrap or randomisation inference (docs/evaluator.md)",
                    treated=FEW_TREATED_CLUSTERS,
                    clusters=FEW_CLUSTERS,
                )
                + "[/yellow]"
            )
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in found.to_dict(orient="records")
    ]


def _compare_baselines(args, snapshots_dir: Path, project: str, request) -> int:
    """`emp baseline --compare OLD NEW`: the baseline values a later snapshot would change."""
    from publish.snapshot_baselines import (
        choose_snapshot,
        compare_baselines,
        frozen_tables,
        render,
        tables_for_request,
    )

    old_version, new_version = args.compare
    frames = []
    for version in (old_version, new_version):
        chosen = choose_snapshot(
            snapshots_dir, project, version=version, country=request.country if request else None
        )
        folder = Path(chosen["path"])
        tables = tables_for_request(folder, request) if request else frozen_tables(folder, project)
        frames.append(tables["baselines"])
    changed = compare_baselines(*frames)
    console.print(
        _(
            "{project}: {count} baseline value(s) would change from {old} to {new} (of {total})",
            project=project,
            count=len(changed),
            old=old_version,
            new=new_version,
            total=len(frames[1]),
        )
    )
    about = {"table": "baseline changes", "old": old_version, "new": new_version}
    data = render(changed, args.format if args.format != "parquet" else "csv", about)
    if args.output:
        Path(args.output).write_bytes(data)
        console.print("  " + _("written to {path}", path=args.output))
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _published_folders(settings: Settings, snapshots_dir: Path) -> list[Path]:
    """Where EMP publishes: no command writes a file of its own there."""
    return [snapshots_dir, settings.snapshots, Path(settings.snapshots).parent / "reports"]


def cmd_report(args: argparse.Namespace) -> int:
    """The country's profile as one HTML file, from a published snapshot, in its default
    language or the one asked for (or, with --all-languages, one file per language)."""
    from publish.chart_cache import chart_cache
    from publish.report import profile_languages, write_profile
    from sources.i18n import normalise_language

    settings = Settings.from_env()
    snapshots_dir = Path(args.snapshots) if args.snapshots else settings.snapshots
    country = args.country.upper()
    everything = list_snapshots(snapshots_dir, country)
    found = everything
    if args.snapshot:
        found = [s for s in found if s["version"] == args.snapshot]
    else:
        found = _current(snapshots_dir, country)
    if not found:
        console.print(
            _(
                "[red]emp report:[/red] no snapshot for {country} under {folder}",
                country=country,
                folder=snapshots_dir,
            )
        )
        return 2
    snap = found[-1]
    previous = compared_with(snapshots_dir, country, snap["version"])
    default, offered = profile_languages(country)
    asked = args.report_lang
    if asked and not normalise_language(asked):
        console.print(_("[red]emp report:[/red] unknown language {lang}", lang=asked))
        return 2
    languages = offered if args.all_languages else [normalise_language(asked) or default]
    # the refresh's own editions: the charts it drew are kept beside its reports
    charts = None if args.snapshots else chart_cache(snapshots_dir.parent / "reports")
    sibling = f"EMP_{snap['country']}_{snap['version']}.{{lang}}.html"
    extension = ".pdf" if args.report_format == "pdf" else ".html"
    for language in languages:
        if args.output and len(languages) == 1:
            output = Path(args.output)
        else:
            output = Path(sibling.format(lang=language)).with_suffix(extension)
            if args.output:
                output = Path(args.output).parent / output
        refuse_published_output(output, _published_folders(settings, snapshots_dir))
        if extension == ".pdf":
            from publish.pdf import write_print_edition

            write_print_edition(Path(snap["path"]), output, language, previous, charts)
        else:
            write_profile(Path(snap["path"]), output, language, previous, sibling, charts)
        console.print(
            _(
                "{country} profile from snapshot {version} ({lang}): {path}",
                country=snap["country"],
                version=snap["version"],
                lang=language,
                path=output,
            )
        )
    return 0


def cmd_site(args: argparse.Namespace) -> int:
    """`emp site`: the public site of every profile, from the published editions alone."""
    from publish.site import build_site

    settings = Settings.from_env()
    snapshots_dir = Path(args.snapshots) if args.snapshots else settings.snapshots
    output = Path(args.output) if args.output else site_folder(snapshots_dir)
    refuse_published_output(output / "index.html", [snapshots_dir])
    result = build_site(snapshots_dir, output, snapshots_dir.parent / "reports", args.force)
    if result.status == "empty":
        console.print(
            _("[red]emp site:[/red] no published edition under {folder}", folder=snapshots_dir)
        )
        return 2
    if result.status == "unchanged":
        console.print(_("The site is up to date: {path}", path=output / "index.html"))
        return 0
    console.print(
        _(
            "Site built: {pages} pages and {pdfs} new PDFs in {seconds} s; open {path}",
            pages=result.pages,
            pdfs=result.pdfs,
            seconds=round(result.seconds),
            path=output / "index.html",
        )
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`emp serve`: the site, the SDMX REST subset and the baselines, read-only."""
    import uvicorn

    from publish.serve import create_app

    settings = Settings.from_env()
    snapshots_dir = Path(args.snapshots) if args.snapshots else settings.snapshots
    site = site_folder(snapshots_dir)
    console.print(
        _(
            "Serving {site} and the published editions on http://{host}:{port}/ (SDMX under "
            "/sdmx/, baselines under /api/baselines/<ISO3>); Ctrl-C stops",
            site=site,
            host=args.host,
            port=args.port,
        )
    )
    uvicorn.run(
        create_app(snapshots_dir, site), host=args.host, port=args.port, log_level="warning"
    )
    return 0


def site_folder(snapshots_dir: Path) -> Path:
    """Where the refresh and `emp site` put the site: EMP_HOME/site, beside the snapshots."""
    return Path(snapshots_dir).parent / "site"


def cmd_dagster_home(args: argparse.Namespace) -> int:
    from pipelines.instance import dagster_home

    print(dagster_home(Settings.from_env().home))
    return 0


def cmd_translations(args: argparse.Namespace) -> int:
    """`emp translations --missing`: every message or catalogue text some language lacks (exit
    1 if any); `--update`: merge the code's messages into the catalogs."""
    from indicators.translations import missing_catalogue_translations
    from sources.i18n import LANGUAGES
    from sources.message_catalogs import extract_messages, missing_messages, update_catalogs

    if args.update:
        for language, count in update_catalogs().items():
            print(_("{lang}: {count} message(s) to translate", lang=language, count=count))
    template = extract_messages()
    missing = []
    for language in LANGUAGES:
        missing += missing_messages(language, template)
        missing += missing_catalogue_translations(language)
    if args.missing or not args.update:
        for line in missing:
            print(line)
        print(
            _(
                "{messages} message(s) in the code, {languages} languages; {missing} "
                "translation(s) missing",
                messages=len(template),
                languages=len(LANGUAGES),
                missing=len(missing),
            )
        )
    return 1 if missing and args.missing else 0


def cmd_explain(args: argparse.Namespace) -> int:
    """The chain behind one published value: indicator, query, observations, files and rows."""
    from warehouse.lineage import explain, parse_key

    settings = Settings.from_env()
    snapshots_dir = Path(args.snapshots) if args.snapshots else settings.snapshots
    try:
        area = parse_key(args.key)["ref_area"]
    except ValueError as err:
        console.print(f"[red]emp explain:[/red] {err}")
        return 2
    country = (args.country or _country_of(area)).upper()
    found = list_snapshots(snapshots_dir, country)
    if args.snapshot:
        found = [s for s in found if s["version"] == args.snapshot]
    else:
        found = _current(snapshots_dir, country)
    if not found:
        console.print(
            "[red]emp explain:[/red] "
            + _("no snapshot for {country} under {folder}", country=country, folder=snapshots_dir)
        )
        return 2
    try:
        lines = explain(Path(found[-1]["path"]), args.key)
    except LookupError as err:
        console.print(f"[red]emp explain:[/red] {err}")
        return 1
    Console(width=200, highlight=False).print("\n".join(lines), markup=False)
    return 0


def _current(snapshots_dir: Path, country: str) -> list[dict]:
    """The edition a command reads by default: the latest approved one, else the newest draft
    (said on standard error)."""
    from publish.approvals import DRAFT, current_edition

    snap, status = current_edition(snapshots_dir, country)
    if snap and status == DRAFT:
        console.print(
            _(
                "{country}: no edition is approved yet; reading the draft {version}",
                country=country,
                version=snap["version"],
            )
        )
    return [snap] if snap else []


def cmd_approve(args: argparse.Namespace) -> int:
    """`emp approve`: the working group approves a draft, which becomes the published edition;
    `emp unapprove` withdraws an approval. Both are appended to the approval log."""
    from publish.approvals import approve, unapprove
    from publish.country_profiles import build_country_report

    settings = Settings.from_env()
    country = args.country.upper()
    if args.command == "approve":
        entry = approve(settings.snapshots, country, args.version, args.by, args.note)
        message = _(
            "{country}: edition {version} approved by {by}; it is now the published edition",
            country=country,
            version=entry.version,
            by=entry.by,
        )
    else:
        entry = unapprove(settings.snapshots, country, args.version, args.by or "", args.reason)
        message = _(
            "{country}: approval of edition {version} withdrawn ({reason})",
            country=country,
            version=entry.version,
            reason=entry.note,
        )
    console.print(message)
    reports = Path(settings.snapshots).parent / "reports"  # as the refresh writes them
    report = build_country_report(country, settings.snapshots, reports, None)
    console.print(_("Profile pages rebuilt: {path}", path=report.path))
    from publish.site import build_site

    site = build_site(settings.snapshots, site_folder(settings.snapshots), reports)
    console.print(_("Site rebuilt: {path}", path=site.path / "index.html"))
    return 0


def _country_of(area: str) -> str:
    """The profile country of an area code: MDA, or MA-06 -> MAR."""
    import pycountry

    if len(area) == 3:
        return area
    found = pycountry.countries.get(alpha_2=area.split("-", 1)[0])
    return found.alpha_3 if found else area


def _number(value, status: str | None = None) -> str:
    """A value for the reader; an empty one says why (confidential, cannot exist)."""
    if value is None:
        return (status or "no value").lower()
    return f"{value:,.6g}"


def cmd_diff(args: argparse.Namespace) -> int:
    """Indicators added, removed and changed beyond a tolerance between two snapshot versions."""
    from publish.diff import diff_snapshots

    settings = Settings.from_env()
    snapshots_dir = Path(args.snapshots) if args.snapshots else settings.snapshots
    published = list_snapshots(snapshots_dir, args.country.upper() if args.country else None)
    by_country: dict[str, dict[str, Path]] = {}
    for snap in published:
        by_country.setdefault(snap["country"], {})[snap["version"]] = Path(snap["path"])
    pairs = {c: v for c, v in by_country.items() if args.old in v and args.new in v}
    if not pairs:
        console.print(
            "[red]emp diff:[/red] "
            + _(
                "no country has both snapshot {old} and {new} under {folder} (see `emp snapshots`)",
                old=args.old,
                new=args.new,
                folder=snapshots_dir,
            )
        )
        return 2
    results = {
        country: diff_snapshots(versions[args.old], versions[args.new], args.tolerance)
        for country, versions in sorted(pairs.items())
    }
    if args.json:
        print(json.dumps(results, indent=2, default=str))
        return 0
    out = Console(width=160)
    for country, result in results.items():
        counts = result["counts"]
        out.print(
            _(
                "{country}: {old} -> {new} (tolerance {tolerance} %): {added} added, {removed} "
                "removed, {revised} revised by a new edition, {changed} changed, {unchanged} "
                "unchanged",
                country=country,
                old=args.old,
                new=args.new,
                tolerance=f"{args.tolerance:g}",
                added=counts["added"],
                removed=counts["removed"],
                revised=counts["revised"],
                changed=counts["changed"],
                unchanged=counts["unchanged"],
            )
        )
        table = Table()
        columns = ("indicator", "added", "removed", "revised", "changed")
        for column in columns:
            table.add_column(column, justify="left" if column == "indicator" else "right")
        for indicator, row in result["by_indicator"].items():
            table.add_row(indicator, *(str(row[c]) for c in columns[1:]))
        out.print(table)
        for kind in ("revised", "changed"):
            for row in result[kind][: args.limit]:
                where = " ".join(
                    str(row[k]) for k in ("series", "ref_area", "time_period", "sex", "age")
                )
                pct = row["change_pct"]
                editions = (
                    f" [{row['edition_old']} -> {row['edition_new']}]" if kind == "revised" else ""
                )
                out.print(
                    f"  {kind} {where}: {_number(row['obs_value_old'], row.get('status_old'))} -> "
                    f"{_number(row['obs_value_new'], row.get('status_new'))}"
                    + (f" ({pct:+.2f} %)" if pct is not None else "")
                    + editions
                )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emp",
        description=_(
            "Extended Migration Profiles: refresh the warehouse and publish snapshots. "
            "Paths come from EMP_HOME (default ./var), EMP_DUCKDB, EMP_SNAPSHOTS, EMP_PUBLIC_DATA; "
            "profile countries from EMP_COUNTRIES."
        ),
    )
    parser.add_argument(
        "--lang",
        help=_(
            "language of messages and reports: en, fr, ar or ro (default: EMP_LANG, else the "
            "locale, else English)"
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help=_("load sources, compute indicators, publish"))
    refresh.add_argument("--country", action="append", default=[], help=_("ISO3; repeatable"))
    refresh.add_argument("--json", action="store_true", help=_("print the summary as JSON"))
    refresh.add_argument(
        "--force",
        action="store_true",
        help=_("publish a new version for every country even where nothing changed"),
    )
    refresh.set_defaults(handler=cmd_refresh)
    snapshots = commands.add_parser("snapshots", help=_("list published snapshots"))
    snapshots.add_argument("--country", help=_("ISO3"))
    snapshots.add_argument("--json", action="store_true", help=_("print JSON"))
    snapshots.set_defaults(handler=cmd_snapshots)
    check = commands.add_parser(
        "check",
        help=_("check a file before sending it: nothing is loaded; exit 1 if it would fail"),
    )
    check.add_argument("file", nargs="?", help=_("the file to check"))
    check.add_argument(
        "--specs", action="store_true", help=_("check every source spec and the catalogue links")
    )
    check.add_argument("--source", help=_("the spec id, when the file name does not say it"))
    check.add_argument(
        "--period", help=_("the period the file holds, when its name does not give it (2024)")
    )
    check.add_argument("--json", action="store_true", help=_("print the problems as JSON"))
    check.set_defaults(handler=cmd_check)
    status = commands.add_parser(
        "status",
        help=_(
            "who owes which file: per ministry and dataset, what arrived, what is late or "
            "missing, and the completeness and timeliness rates"
        ),
    )
    status.add_argument("--country", action="append", default=[], help=_("ISO3; repeatable"))
    status.add_argument("--edition", help=_("as a published edition records it (its version)"))
    status.add_argument("--as-of", help=_("the day deadlines are judged on (default: today)"))
    status.add_argument("--json", action="store_true", help=_("print JSON"))
    status.set_defaults(handler=cmd_status)
    approve = commands.add_parser(
        "approve",
        help=_("the working group approves a draft edition: it becomes the published one"),
    )
    approve.add_argument("--country", required=True, help=_("ISO3"))
    approve.add_argument(
        "--version", required=True, help=_("the edition (emp snapshots lists them)")
    )
    approve.add_argument("--by", required=True, help=_("who approves, e.g. the TWG chair's name"))
    approve.add_argument("--note", help=_("e.g. the meeting and its minutes"))
    approve.set_defaults(handler=cmd_approve)
    unapprove = commands.add_parser(
        "unapprove", help=_("withdraw the approval of an edition; it is a draft again")
    )
    unapprove.add_argument("--country", required=True, help=_("ISO3"))
    unapprove.add_argument("--version", required=True, help=_("the edition"))
    unapprove.add_argument("--reason", required=True, help=_("why it is withdrawn"))
    unapprove.add_argument("--by", help=_("who withdraws it"))
    unapprove.set_defaults(handler=cmd_approve)
    data_template = commands.add_parser(
        "template",
        help=_(
            "a data-collection workbook (XLSX) for a dataset, built from its spec, to fill in "
            "and send back as it is"
        ),
    )
    data_template.add_argument(
        "--spec",
        required=True,
        help=_("the spec id (project_reports: a project's logframe report)"),
    )
    data_template.add_argument("--period", help=_("e.g. 2024, 2024-Q3 (default: last year)"))
    data_template.add_argument("--lang", dest="template_lang", help=_("the instructions' language"))
    data_template.add_argument(
        "--output", help=_("file to write (default: the name to send it under)")
    )
    data_template.add_argument(
        "--project", help=_("with --spec project_reports: the registry code")
    )
    data_template.set_defaults(handler=cmd_data_template)
    template = commands.add_parser(
        "logframe-template", help=_("write a blank logframe report for a project to fill in")
    )
    template.add_argument("output", help=_("file to write, e.g. logframe_Morocco-32_2013-S1.xlsx"))
    template.add_argument("--project", required=True, help=_("registry code, e.g. Morocco-32"))
    template.add_argument("--period", required=True, help=_("reporting period, e.g. 2013-S1"))
    template.add_argument(
        "--actual", action="append", help=_("a period with an Actual column; repeatable")
    )
    template.set_defaults(handler=cmd_template)
    baseline = commands.add_parser(
        "baseline",
        help=_("a project's impact-assessment baseline, from the published snapshots alone"),
    )
    baseline.add_argument("--project", help=_("request or project id, e.g. Morocco-32"))
    baseline.add_argument(
        "--request", help=_("an ad-hoc request YAML, answered from the snapshot's indicators")
    )
    when = baseline.add_mutually_exclusive_group()
    when.add_argument("--snapshot", help=_("snapshot version, e.g. 20261122T123514Z"))
    when.add_argument("--as-of", help=_("the latest snapshot published on or before this date"))
    baseline.add_argument(
        "--table",
        choices=("baselines", "panel", "pretrends", "reconciliation", "donors"),
        default="baselines",
        help=_(
            "baselines (default), the difference-in-differences panel, the pre-period means of "
            "intervention and comparison areas (pretrends), the logframe reconciliation, or the "
            "synthetic-control inputs (donors)"
        ),
    )
    baseline.add_argument(
        "--compare",
        nargs=2,
        metavar=("OLD", "NEW"),
        help=_("list the baseline values snapshot NEW would change from snapshot OLD"),
    )
    baseline.add_argument("--format", choices=("csv", "parquet", "json"), default="csv")
    baseline.add_argument("--output", help=_("file to write (default: standard output)"))
    baseline.add_argument("--snapshots", help=_("snapshots folder (default EMP_SNAPSHOTS)"))
    baseline.set_defaults(handler=cmd_baseline)
    diff = commands.add_parser(
        "diff", help=_("indicators added, removed and changed between two snapshot versions")
    )
    diff.add_argument("old", help=_("the earlier snapshot version"))
    diff.add_argument("new", help=_("the later snapshot version"))
    diff.add_argument("--country", help=_("ISO3 (default: every country with both versions)"))
    diff.add_argument(
        "--tolerance",
        type=float,
        default=0.1,
        help=_("relative change in percent below which a value counts as unchanged (default 0.1)"),
    )
    diff.add_argument("--limit", type=int, default=20, help=_("changed values listed (table)"))
    diff.add_argument("--json", action="store_true", help=_("print everything as JSON"))
    diff.add_argument("--snapshots", help=_("snapshots folder (default EMP_SNAPSHOTS)"))
    diff.set_defaults(handler=cmd_diff)
    explain = commands.add_parser(
        "explain", help=_("trace one published value to its query, observations, files and rows")
    )
    explain.add_argument(
        "key",
        help=_(
            "the value key, INDICATOR.SERIES.AREA.COUNTERPART.PERIOD[.SEX.AGE.STATUS.BREAKDOWN] "
            "(column value_key of the snapshot), e.g. EMI_RATE.EMI_RATE.MDA._T.2017"
        ),
    )
    explain.add_argument("--country", help=_("ISO3 of the profile (default: from the area)"))
    explain.add_argument("--snapshot", help=_("snapshot version (default: the latest approved)"))
    explain.add_argument("--snapshots", help=_("snapshots folder (default EMP_SNAPSHOTS)"))
    explain.set_defaults(handler=cmd_explain)
    site = commands.add_parser(
        "site",
        help=_(
            "the public site of every profile (pages per country, indicator and area, status "
            "pages, search, downloads), from the published editions"
        ),
    )
    site.add_argument("--output", help=_("folder to write the site in (default EMP_HOME/site)"))
    site.add_argument("--snapshots", help=_("snapshots folder (default EMP_SNAPSHOTS)"))
    site.add_argument(
        "--force", action="store_true", help=_("rebuild every page, even when nothing changed")
    )
    site.set_defaults(handler=cmd_site)
    serve = commands.add_parser(
        "serve",
        help=_(
            "serve the site and, read-only, SDMX (structures and data) and the projects' "
            "baselines of every published edition"
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help=_("address to listen on"))
    serve.add_argument("--port", type=int, default=8000, help=_("port to listen on"))
    serve.add_argument("--snapshots", help=_("snapshots folder (default EMP_SNAPSHOTS)"))
    serve.set_defaults(handler=cmd_serve)
    report = commands.add_parser(
        "report", help=_("the country's Extended Migration Profile as one HTML file, or a PDF")
    )
    report.add_argument("--country", required=True, help=_("ISO3"))
    report.add_argument("--snapshot", help=_("snapshot version (default: the latest approved)"))
    report.add_argument(
        "--output", help=_("HTML file to write (default EMP_<ISO3>_<version>.html)")
    )
    report.add_argument("--snapshots", help=_("snapshots folder (default EMP_SNAPSHOTS)"))
    report.add_argument(
        "--lang",
        dest="report_lang",
        help=_("the report's language: en, fr, ar or ro (default: the country's, e.g. MAR fr)"),
    )
    report.add_argument(
        "--all-languages",
        action="store_true",
        help=_("write the report in every language the country's is offered in, side by side"),
    )
    report.add_argument(
        "--format",
        dest="report_format",
        choices=("html", "pdf"),
        default="html",
        help=_(
            "html (default) or pdf: the print edition (A4, table of contents, page numbers), "
            "with the figures by region and province beside it as CSV and XLSX"
        ),
    )
    report.set_defaults(handler=cmd_report)
    translations = commands.add_parser(
        "translations", help=_("the message catalogs and catalogue translations: what is missing")
    )
    translations.add_argument(
        "--missing",
        action="store_true",
        help=_("list every message and catalogue text without a translation (exit 1 if any)"),
    )
    translations.add_argument(
        "--update",
        action="store_true",
        help=_("extract the code's messages into sources/locale/emp.pot and merge each .po"),
    )
    translations.set_defaults(handler=cmd_translations)
    home = commands.add_parser(
        "dagster-home",
        help=_("set up and print the Dagster instance folder make run and make dev share"),
    )
    home.set_defaults(handler=cmd_dagster_home)
    return parser


#: argparse's own words, shown in the reader's language (argparse looks them up through `_`)
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("unrecognized arguments: %s"),
    N_("expected one argument"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("invalid %(type)s value: %(value)r"),
)


def _global_language(argv: list[str]) -> str | None:
    """The value of `--lang` given before the command (`emp --lang fr check ...`)."""
    for index, token in enumerate(argv):
        if not token.startswith("-"):
            return None  # the command: its own --lang is the report's or template's language
        if token == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if token.startswith("--lang="):
            return token.split("=", 1)[1]
    return None


def one_line(err: BaseException) -> str:
    """An error as one line a person can read: its message, without a traceback."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 2000 else text[:1997] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. No traceback reaches the user: every error ends as one line naming what
    went wrong, and an exit code (1 failed, 2 wrong call or setting, 3 warehouse busy)."""

    from sources.i18n import language_scope, normalise_language

    argv = list(sys.argv[1:] if argv is None else argv)
    language = _global_language(argv)  # set before the parser is built: --help follows it
    if language is not None and not normalise_language(language):
        print(f"emp: unknown language {language!r}; EMP speaks en, fr, ar, ro", file=sys.stderr)
        return 2
    with language_scope(language):  # restored after the command
        return _run(argv)


def _run(argv: list[str]) -> int:
    """One command, in the language already set."""
    import os

    argparse._ = lambda text: _(text)  # argparse's words (usage, options...) from EMP's catalog
    args = build_parser().parse_args(argv)
    _load_heavy_modules()
    from sources.errors import FileLayoutError, SpecError
    from warehouse.settings import SettingsError

    where = f"emp {args.command}"
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except SettingsError as err:
        print(f"{where}: setting refused: {one_line(err)}", file=sys.stderr)
        return 2
    except WarehouseBusyError as err:
        print(f"{where}: {one_line(err)}", file=sys.stderr)
        return 3
    except (TamperedSnapshotError, PublishedOutputError, ApprovalLogError) as err:
        print(f"{where}: {localise(one_line(err))}", file=sys.stderr)
        return 2
    except (SpecError, FileLayoutError, OSError) as err:
        print(f"{where}: {one_line(err)}", file=sys.stderr)
        return 1
    except Exception as err:  # the last guard: a message, never a traceback
        if os.environ.get("EMP_DEBUG"):
            raise
        print(
            f"{where}: failed ({type(err).__name__}): {one_line(err)} "
            "(set EMP_DEBUG=1 to see where)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
