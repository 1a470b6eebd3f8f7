"""Registers a working group keeps as data, one YAML file per country (Part C's governance
entries, Part D's recommendations): where a country's file is, and its entries validated, each
problem naming the file and the entry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sources.yaml_files import read_yaml

Model = TypeVar("Model", bound=BaseModel)


def register_file(country: str, bundled: Path, variable: str) -> Path | None:
    """The country's file: in the folder the environment `variable` names, which takes
    precedence, else among the bundled ones."""
    own = os.environ.get(variable, "").strip()
    for folder in ([Path(own).expanduser()] if own else []) + [bundled]:
        path = folder / f"{country}.yaml"
        if path.exists():
            return path
    return None


def register_entries(
    path: Path | None, key: str, model: type[Model], error: type[ValueError], entry: str
) -> list[Model]:
    """The entries under `key` of the file at `path` (none without a file), each validated as
    `model`; a file or an entry that cannot be read raises `error` naming it ("entry 3")."""
    if path is None:
        return []
    try:
        document = read_yaml(path) or {}
    except (OSError, yaml.YAMLError) as err:
        raise error(f"{path}: not readable as YAML: {err}") from None
    found = []
    for number, raw in enumerate(document.get(key) or [], start=1):
        try:
            found.append(model.model_validate(raw))
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
            )
            raise error(f"{path}, {entry} {number}: {problems}") from None
    return found
