"""``python -m saleslead`` runs the ``saleslead`` command (the same as the installed script)."""

from saleslead.cli.app import main

if __name__ == "__main__":
    main()
