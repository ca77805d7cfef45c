"""`python -m bot ...` is the `branchbot` command."""

from bot.cli.entry import main

main()
