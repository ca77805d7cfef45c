"""Helpers shared by several features: charts, tables, periods, finding members, cells of exports,
member free text."""
