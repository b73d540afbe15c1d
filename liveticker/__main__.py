"""`python -m liveticker` is the `liveticker` command."""

from liveticker.cli import main

main()
