"""`python -m archc …` runs the archc command line."""
from archc.cli import entry

if __name__ == "__main__":
    entry()
