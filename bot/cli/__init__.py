"""The `branchbot` command line: one module per command group."""
