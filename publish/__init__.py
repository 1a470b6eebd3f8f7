"""What EMP publishes: snapshots, exports, the profile report and its print edition, built from
the warehouse and the indicators, and read back only from what was written."""
