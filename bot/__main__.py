"""`python -m bot ...` is the `branchbot` command."""

from bot.entry import main

main()
