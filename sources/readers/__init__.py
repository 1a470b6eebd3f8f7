"""One module per publisher layout: `read(path) -> RawRead` and `harmonise(raw) -> observations`."""
