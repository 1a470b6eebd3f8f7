"""The README and the pages under docs/ cannot drift from the code: every link leads to a file
and a heading that exist, every `emp` command they show is one the command line accepts, every
`make` target exists, and every setting they name is one EMP reads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pipelines.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]+\]\(([^)\s]+)\)")
BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)

#: what the usage lines' placeholders stand for, to parse them as a user would type them
PLACEHOLDERS = {
    "ISO3": "MAR",
    "OLD": "20260101T000000Z",
    "NEW": "20260201T000000Z",
    "OLD_VERSION": "20260101T000000Z",
    "NEW_VERSION": "20260201T000000Z",
    "V": "20260101T000000Z",
    "PCT": "0.1",
    "FILE": "file.csv",
    "DIR": "site",
    "DATE": "2026-01-01",
    "SPEC_ID": "mar_consular_registrations",
    "P": "2026",
}


def _slug(heading: str) -> str:
    """A heading's anchor, as GitHub makes it."""
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return heading.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = BLOCK.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def _commands() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for block in BLOCK.findall(page.read_text(encoding="utf-8")):
            for line in block.splitlines():
                line = line.lstrip("$ ").split("  #")[0].strip()
                match = re.match(r"^(?:\w+=\S+ )*(?:\.venv/bin/)?emp (.*)$", line)
                if match:
                    found.append((page.name, match.group(1)))
    return found


def _as_typed(usage: str) -> list[str]:
    """A usage line with its optional parts written out: first alternative, placeholders
    filled in."""
    usage = re.sub(r"\[([^\[\]]*?) \| [^\[\]]*\]", r"\1", usage)  # [--a X | --b Y] -> --a X
    usage = usage.replace("[", "").replace("]", "")
    words = []
    for word in shlex.split(usage):
        if word == "...":  # a value the reader fills in, or "and so on"
            if words and words[-1].startswith("--"):
                words.append("x")
            continue
        word = word.split("|")[0] if "|" in word and not word.startswith("-") else word
        words.append(PLACEHOLDERS.get(word, word))
    return words


def test_every_link_leads_somewhere():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_the_readme_is_short_and_names_a_page_for_each_role():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.split()) < 900  # about five minutes of reading
    for page in ("working-group", "focal-point", "evaluator", "operator", "developer"):
        assert f"(docs/{page}.md)" in readme


@pytest.mark.parametrize("page,command", _commands())
def test_every_emp_command_in_the_docs_is_accepted(page, command):
    parser = build_parser()
    try:
        parser.parse_args(_as_typed(command))
    except SystemExit as stopped:
        pytest.fail(f"{page}: `emp {command}` is refused by the command line ({stopped})")


def test_every_make_target_and_setting_in_the_docs_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("pipelines", "sources", "warehouse", "indicators", "publish")
        for p in (ROOT / folder).rglob("*.py")
    )
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"`make ([\w-]+)`|^make ([\w-]+)", text, flags=re.M):
            name = target[0] or target[1]
            assert name in targets, f"{page.name}: make {name}"
        for setting in set(re.findall(r"\bEMP_[A-Z_]+[A-Z]\b", text)):
            assert setting in code or setting in makefile, f"{page.name}: {setting}"
