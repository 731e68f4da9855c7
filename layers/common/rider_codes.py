"""Rider codes (暖新码): a random token made on the rider's phone, no name and no number, that earns points.

A code is 16 characters of Crockford's base32 (80 random bits), shown in four groups
(``7K3M-Q9XA-2HFD-T8WB``) and as a QR code that holds ``<base>/#code=<code>``: the phone's camera
app opens the rider page on a new phone, which keeps the code (the fragment never reaches the
server's logs), and the staff page reads the same QR when the rider redeems points. The store
keeps only the code's SHA-256; nothing about the rider is stored.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from layers.common.errors import QuestionError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford: no I, L, O, U
LENGTH = 16
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")
_IN_URL = re.compile(r"[#?&]code=([0-9A-Za-z\-]{16,40})")
EXPECTED = f"a rider code: {LENGTH} letters and digits, e.g. 7K3M-Q9XA-2HFD-T8WB"


def new_code() -> str:
    """A fresh code (the phone makes its own; this one is for tests and the command line)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text, field: str = "rider_code") -> str:
    """The code in ``text`` (any case, with or without dashes or spaces; I/L read as 1, O as 0), or
    QuestionError naming ``field``."""
    if not isinstance(text, str) or len(text) > 64:
        raise QuestionError(field, f"expected {EXPECTED}")
    code = _SEPARATORS.sub("", text.strip()).upper().translate(_READ_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        raise QuestionError(field, f"expected {EXPECTED}")
    return code


def from_scan(text, field: str = "rider_code") -> str:
    """The code a scanned QR holds: the rider page's link (``…#code=…``) or the bare code."""
    if isinstance(text, str):
        found = _IN_URL.search(text)
        if found:
            return normalise(found.group(1), field)
    return normalise(text, field)


def code_hash(code: str) -> str:
    """What the store keeps of a code."""
    return hashlib.sha256(("nuanxin-rider:" + code).encode()).hexdigest()


def shown(code: str) -> str:
    """The code in four groups of four, as the rider and the staff read it."""
    return "-".join(code[i:i + 4] for i in range(0, LENGTH, 4))


def transfer_link(base_url: str, code: str) -> str:
    """What the rider's QR holds: the rider page with the code in the fragment."""
    return f"{base_url.rstrip('/')}/#code={code}"
