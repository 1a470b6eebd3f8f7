"""DuckDB warehouse: connection handling, schema, batch loading, core building and publishing."""
