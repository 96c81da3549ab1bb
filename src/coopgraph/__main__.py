"""python -m coopgraph: the same as the coopgraph command."""

from .cli import main

main()
