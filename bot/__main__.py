"""`python -m bot` is the same as the `buurtbot` command."""

from bot.cli import main

main()
