"""`python -m fraudctl`: the same tool as the `fraudctl` command."""

from fraudctl.cli import main

main()
