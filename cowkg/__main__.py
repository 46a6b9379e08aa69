"""``python -m cowkg`` runs the command line (same as the ``cowkg`` console script)."""

from .cli import main

main()
