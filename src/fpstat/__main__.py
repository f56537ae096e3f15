"""``python -m fpstat`` runs the command line."""

from fpstat.cli.main import main

if __name__ == "__main__":
    main()
