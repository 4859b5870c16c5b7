"""The studies: one folder each (plan, data, tables, write-up)."""
