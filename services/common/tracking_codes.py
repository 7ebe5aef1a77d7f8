"""The 查询码 residents are given: WC and eight Crockford base-32 characters (40 bits).

Shared because a resident types it back: into the tracking page (intake's lookup) and into
an SMS reply (notify tells a question from any other reply by it).
"""

from __future__ import annotations

import re
import secrets
import unicodedata

PREFIX = "WC"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
LENGTH = 8  # characters after the prefix: 32**8 = 2**40 codes
# What a resident may type for a character the alphabet leaves out (Crockford's rule).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(f"{PREFIX}[{ALPHABET}]{{{LENGTH}}}")
_SEPARATORS = re.compile(r"[\s\-_.]")


def new_code() -> str:
    """A fresh random code."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(raw: str) -> str | None:
    """The code a resident meant (full-width letters, lower case, spaces, O for 0 allowed),
    or None when `raw` cannot be one."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if len(text) != len(PREFIX) + LENGTH or not text.startswith(PREFIX):
        return None
    code = PREFIX + text[len(PREFIX) :].translate(_LOOKALIKES)
    return code if _SHAPE.fullmatch(code) else None
