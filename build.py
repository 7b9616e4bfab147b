"""Build the nmbkg knowledge graph into dist/ (same as `nmbkg build`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from nmbkg.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["--root", str(Path(__file__).resolve().parent), "build", *sys.argv[1:]]))
