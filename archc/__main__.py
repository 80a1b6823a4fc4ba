"""`python -m archc …` runs the archc command line."""
from archc.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
