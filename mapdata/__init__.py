"""Data: third-party sources with their licences, coordinate conversion, schemas, the store, the demo build."""
from pathlib import Path

#: Third-party data shipped with the project (see sources/README.md for licences and provenance).
SOURCES = Path(__file__).resolve().parent / "sources"
