"""Entry point: ``python main.py`` opens the window; ``python main.py <command>`` runs the command line."""
import sys

from explorer.cli import main

if __name__ == "__main__":
    sys.exit(main())
