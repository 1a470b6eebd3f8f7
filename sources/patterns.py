"""Regular expressions a spec declares (periods in headers, cells and file names), compiled by
RE2: matching takes time linear in the text whatever the pattern, so a pattern that would
backtrack for ever (`(\\d+)+` on a crafted header) cannot hang a refresh or `emp check`."""

from __future__ import annotations

from functools import cache

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # our own one-line message instead of RE2's log


class PatternError(ValueError):
    """A spec's pattern that RE2 cannot compile (look-arounds, back-references, bad syntax)."""


@cache
def spec_pattern(text: str):
    """`text` compiled by RE2; PatternError with the reason in words if it cannot be."""
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as err:
        detail = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else err
        raise PatternError(
            f"the regular expression {text!r} cannot be used ({detail}); look-arounds and "
            "back-references are not supported, so that a pattern always matches in linear time"
        ) from None
