"""The compounds a rider probably meant when a typed name finds none: homophones, pinyin, one wrong character.

A rider types a compound's name from an order slip, by ear or with a pinyin keyboard, so the
mistakes are characters that sound alike (锦秀东方 for 锦绣东方), characters that look alike
(龙湖三干城 for 龙湖三千城), a name typed in pinyin (jinxiudongfang) and the odd missing or
extra character. Each name is compared twice, by its characters and by its toneless pinyin,
with an edit distance that lets the typed text match a part of the name (锦秀 still finds
锦绣东方). The pinyin is folded the way pinyin keyboards' "fuzzy pinyin" options fold it
(zh/z, ch/c, sh/s, n/l, ang/an, eng/en, ing/in), which also covers Sichuan speech, where those
pairs sound the same. Look-alike characters have no pinyin in common; they count as one
wrong character.

The names' codes, pinyin and gram indexes are computed once per version of the ``compounds``
layer (:class:`CompoundNames`, held by the catalogue). A question first keeps the names that share
enough characters (or pinyin letter pairs) with the query to be within the allowed edits (the
q-gram lemma: ``m`` characters with ``k`` edits keep ``m - q + 1 - k·q`` of their q-grams), then
runs the edit distance over those at once, one NumPy pass per character of the query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pypinyin import Style, lazy_pinyin

from layers.rider.search import normalise

#: Longer queries are not a compound's name: no suggestion, and the work stays bounded.
MAX_QUERY_CHARS = 30
#: The most suggestions given.
MAX_SUGGESTIONS = 5

_NOT_LETTER = re.compile(r"[^a-z0-9]+")
# pinyin keyboards' fuzzy-pinyin pairs, applied to names and queries alike
_FUZZY = ((re.compile("zh"), "z"), (re.compile("ch"), "c"), (re.compile("sh"), "s"), (re.compile("ang"), "an"),
          (re.compile("eng"), "en"), (re.compile("ing"), "in"), (re.compile("l"), "n"))
_PAD = -1  # pads the code matrices; never equal to a query's code


@dataclass(frozen=True)
class CompoundSuggestion:
    """A compound the rider may have meant.

    ``matched_by`` says how: ``"pinyin"`` (sounds the same, typed in pinyin, or close only by its
    sound) or ``"characters"`` (a character wrong, missing or extra); ``distance`` is the number of
    such edits against the closest part of the name, in characters or pinyin letters.
    """

    id: str
    name: str
    matched_by: str
    distance: int


def _syllables(text: str) -> list[str]:
    """The toneless, fuzzy-folded pinyin syllables of ``text`` (a run of Latin letters or digits is one)."""
    out = []
    for syllable in lazy_pinyin(normalise(text), style=Style.NORMAL, errors="default"):
        letters = _NOT_LETTER.sub("", syllable.casefold().replace("ü", "v"))
        for pattern, folded in _FUZZY:
            letters = pattern.sub(folded, letters)
        if letters:
            out.append(letters)
    return out


def pinyin_letters(text: str) -> str:
    """The toneless, fuzzy-folded pinyin of ``text`` as letters only: 锦绣东方 → ``jinxiudonfan``."""
    return "".join(_syllables(text))


def _syllable_starts(text: str) -> list[int]:
    """Where each syllable of :func:`pinyin_letters` starts, and its end: a match may begin and end only there."""
    starts, at = [], 0
    for syllable in _syllables(text):
        starts.append(at)
        at += len(syllable)
    return [*starts, at]


def _char_allowance(n: int) -> int:
    """Wrong characters tolerated in a query of ``n`` characters: none in two, one in three to five, …"""
    return 0 if n <= 2 else 1 if n <= 5 else 2 if n <= 9 else n // 4


def _letter_allowance(n: int) -> int:
    """Wrong pinyin letters tolerated in ``n`` letters: about one in eight (锦江 ``jinjian`` must not find
    凌江 ``ninjian``, whose initial differs)."""
    return n // 8


def _codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts as a padded matrix of code points and their lengths."""
    lengths = np.array([len(s) for s in texts], dtype=np.int64)
    matrix = np.full((len(texts), max(1, int(lengths.max(initial=0)))), _PAD, dtype=np.int32)
    for i, s in enumerate(texts):
        matrix[i, :len(s)] = [ord(ch) for ch in s]
    return matrix, lengths


def _gram_index(texts: list[str], q: int) -> dict[str, np.ndarray]:
    """Each q-gram → the rows of the texts that contain it."""
    rows: dict[str, set[int]] = {}
    for i, s in enumerate(texts):
        for j in range(len(s) - q + 1):
            rows.setdefault(s[j:j + q], set()).add(i)
    return {g: np.fromiter(sorted(r), dtype=np.int64, count=len(r)) for g, r in rows.items()}


def _candidates(index: dict[str, np.ndarray], query: str, q: int, edits: int, n: int) -> np.ndarray:
    """The rows that may hold a part within ``edits`` of ``query``: enough of its q-grams in common."""
    grams = [query[j:j + q] for j in range(len(query) - q + 1)]
    need = len(grams) - edits * q
    if need <= 0:
        return np.arange(n)
    hits = [index[g] for g in grams if g in index]
    if not hits:
        return np.arange(0)
    return np.flatnonzero(np.bincount(np.concatenate(hits), minlength=n) >= need)


def _boundaries(starts: list[list[int]], width: int) -> np.ndarray:
    """A (keys × width + 1) mask of the positions where a part of each key may begin or end."""
    mask = np.zeros((len(starts), width + 1), dtype=bool)
    for i, s in enumerate(starts):
        mask[i, s] = True
    return mask


def _distances(query: str, keys: np.ndarray, lengths: np.ndarray,
               bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Edit distance from ``query`` to every key: to its closest part (substring) and to the whole key.

    ``bounds`` (keys × width + 1, optional) marks where a part may begin and end (syllable starts
    for pinyin, so that 春熙路 ``cunxinu`` does not match across 北较场西路's ``can|xi|nu``); without
    it, anywhere inside the key.

    One Levenshtein row per query character, computed for all keys at once; the insertions along a
    row are a running minimum (``min_k (d[k] - k) + j``) so no step loops over the key's characters.
    """
    n, width = keys.shape
    width = max(1, int(lengths.max(initial=0)))  # the rows asked about may all be short
    keys = keys[:, :width]
    cols = np.arange(width + 1, dtype=np.int32)
    far = width + len(query) + 1  # more than any distance: a part cannot begin there
    inside = cols[None, :] <= lengths[:, None]
    if bounds is not None:
        inside = inside & bounds[:, :width + 1]
    part = np.where(inside, 0, far).astype(np.int32)  # a part begins for free where it may
    whole = np.broadcast_to(cols, (n, width + 1)).copy()
    step = np.empty_like(part)
    for i, ch in enumerate(query, start=1):
        cost = (keys != ord(ch)).astype(np.int32)
        for row in (part, whole):
            step[:, 0] = i
            np.minimum(row[:, 1:] + 1, row[:, :-1] + cost, out=step[:, 1:])
            step -= cols
            np.minimum.accumulate(step, axis=1, out=row)
            row += cols
    best_part = np.where(inside, part, far).min(axis=1)
    return best_part, whole[np.arange(n), lengths]


def _close(query: str, keys: np.ndarray, lengths: np.ndarray, index: dict[str, np.ndarray], q: int, edits: int,
           bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows within ``edits`` of ``query``, their part distances, their whole-name distances)."""
    rows = _candidates(index, query, q, edits, len(keys))
    if rows.size == 0:
        return rows, rows, rows
    part, whole = _distances(query, keys[rows], lengths[rows], None if bounds is None else bounds[rows])
    ok = part <= edits
    return rows[ok], part[ok], whole[ok]


class CompoundNames:
    """The compounds' names prepared for :func:`closest_compounds`: normalised, as codes and as pinyin.

    Parameters
    ----------
    compounds : DataFrame
        The ``compounds`` layer (needs ``id`` and ``name``); rows without a name are left out.
    """

    def __init__(self, compounds: pd.DataFrame):
        named = compounds[compounds["name"].notna()]
        self.ids = named["id"].astype(str).to_numpy(dtype=object)
        self.names = named["name"].astype(str).to_numpy(dtype=object)
        keys = [normalise(s) for s in self.names]
        self.chars, self.char_lengths = _codes(keys)
        self.letters, self.letter_lengths = _codes([pinyin_letters(s) for s in self.names])
        self.syllable_bounds = _boundaries([_syllable_starts(s) for s in self.names], self.letters.shape[1])
        self.char_grams = _gram_index(keys, 1)
        self.letter_grams = _gram_index([pinyin_letters(s) for s in self.names], 2)

    def __len__(self) -> int:
        return len(self.ids)


def closest_compounds(names: CompoundNames, query, limit: int = MAX_SUGGESTIONS) -> list[CompoundSuggestion]:
    """The compounds whose names are closest to ``query``, closest first; only reasonably close ones.

    Parameters
    ----------
    names : CompoundNames
        The prepared names (the catalogue keeps them per version of the ``compounds`` layer).
    query : str
        What the rider typed: Chinese, pinyin (with or without spaces) or a mix. Anything that is
        not a string, blank, or longer than :data:`MAX_QUERY_CHARS` characters gets no suggestion.
    limit : int
        At most this many, capped at :data:`MAX_SUGGESTIONS`.

    Returns
    -------
    list of CompoundSuggestion
        A name is close when the query matches some part of it with at most one wrong character
        in three to five (none in two, two in six to nine, a quarter beyond), or with at most one
        wrong pinyin letter in eight after fuzzy-pinyin folding, the part beginning and ending at
        syllables. Ranked by the share of the query
        that is wrong, then by how much of the whole name differs (锦绣东方 before
        锦绣东方(二期) for 锦秀东方), then shorter names, then by id.
    """
    if not isinstance(query, str) or len(names) == 0:
        return []
    q = normalise(query)
    limit = max(0, min(int(limit), MAX_SUGGESTIONS))
    if not q or len(q) > MAX_QUERY_CHARS or limit == 0:
        return []
    n = len(names)
    c_part, c_whole, p_part, p_whole = (np.full(n, np.iinfo(np.int32).max, dtype=np.int64) for _ in range(4))
    rows, part, whole = _close(q, names.chars, names.char_lengths, names.char_grams, 1, _char_allowance(len(q)))
    c_part[rows], c_whole[rows] = part, whole
    q_letters = pinyin_letters(q)
    if q_letters:  # nothing has a sound only when the query is punctuation
        rows, part, whole = _close(q_letters, names.letters, names.letter_lengths, names.letter_grams, 2,
                                   _letter_allowance(len(q_letters)), names.syllable_bounds)
        p_part[rows], p_whole[rows] = part, whole
    c_ok, p_ok = c_part <= len(q), p_part <= len(q_letters)  # the rows _close kept
    close = np.flatnonzero(c_ok | p_ok)
    if close.size == 0:
        return []
    c_share = np.where(c_ok, c_part / len(q), np.inf)[close]
    p_share = np.where(p_ok, p_part / max(1, len(q_letters)), np.inf)[close]
    share = np.minimum(c_share, p_share)
    whole = np.minimum(c_whole[close] / np.maximum(len(q), names.char_lengths[close]),
                       p_whole[close] / np.maximum(max(1, len(q_letters)), names.letter_lengths[close]))
    order = np.lexsort((names.ids[close].astype(str), names.char_lengths[close], whole, share))
    out = []
    for k in order[:limit]:
        i = close[k]
        # a homophone, or close only by its sound; otherwise a character was wrong (looks alike, missing)
        by_pinyin = bool(p_part[i] == 0 < c_part[i] or not np.isfinite(c_share[k]))
        out.append(CompoundSuggestion(id=str(names.ids[i]), name=str(names.names[i]),
                                      matched_by="pinyin" if by_pinyin else "characters",
                                      distance=int(p_part[i] if by_pinyin else c_part[i])))
    return out
