"""International publishers' releases, recognised by their content.

- `series.yaml`: the series EMP reads (data a working group may extend);
- `registry.py`: series, releases and `recognise(path)`;
- `peek.py`: a first look at a file (format, sheets, top rows);
- `files.py`: where releases lie, and the embedded default edition of each series.
The layout readers themselves are in `sources/readers/`; loading is `warehouse/releases.py`.
"""
