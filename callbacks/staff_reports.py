"""The staff page's callbacks for riders' reports: thin, each calls one domain function."""
from __future__ import annotations
