"""Compiled (numba) inner loops: text to shingle hashes, shingle hashes to MinHash, and
the words that differ between two normalized keys.

Nothing here is public API; :mod:`dedup.shingle`, :mod:`dedup.minhash` and the modules
after them call in.
Every loop runs over whole batches, so no Python code runs per character, word,
shingle or permutation.

Text arrives as one array of Unicode code points (UTF-32) for the whole batch, with
``starts[i]:starts[i + 1]`` delimiting document ``i``. Each code point is replaced by
its key string through a lookup table (:mod:`dedup.normalize` builds the entries on
demand). An entry ``e = table[cp]`` is one of: ``0`` or ``PENDING``, not built yet;
``(c << 2) | 1``, the single key letter ``c``; ``2``, a word separator; ``6``, dropped
(a mark: the key is empty); ``(start << 10) | (length << 2)`` with ``start >= 1``,
a key of 2 to 255 code points ``pool[start:start + length]`` (ligatures, CJK
characters with their spaces; a space separates words).

Word hash, over the code points ``c_0 .. c_{L-1}`` of a key word (64-bit wrapping)::

    h = 0x9E3779B97F4A7C15; for c in word: h = h * 0x100000001B3 + (c + 1)
    word_hash = fmix64(h)

The non-zero seed makes the length count (``h = seed * P**L + ...``); a word is
recognised as non-empty by ``h != seed``, wrong only for a 2**-64 accident.

N-gram hash of words ``w_i .. w_{i+n-1}``: ``fmix64(sum_k word_hash[i + k] * M_k)``
with the odd multipliers ``M_k`` of :data:`dedup.shingle._NGRAM_MULTIPLIERS`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PENDING = np.uint32(0xFFFFFFFC)  # a code point queued for a table entry: not built yet
TAG_SEPARATOR = 2
TAG_DROPPED = 6
_SPACE = 32
_ZERO, _NINE = 48, 57  # ASCII digits
_BYTE_BASE = np.uint64(0x100000001B3)
_WORD_SEED = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = np.uint32(0xFFFFFFFF)


@njit(cache=True)
def fmix64(h):
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True)
def fmix32(h):
    # h: uint32 value carried in a uint64, result masked back to 32 bits.
    m = np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & m
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & m
    h ^= h >> np.uint64(16)
    return h


@njit(cache=True)
def _first(x):
    return x


def start_compiler() -> None:
    """Set numba up in this process. A process's first compiled call takes about 0.6 s, most
    of it numba loading its registries (which import SciPy's BLAS); a process about to fork
    workers pays it once for all of them, as they inherit what it loaded."""
    _first(0)


@njit(cache=True)
def missing_code_points(cps, table):
    """Distinct code points of ``cps`` without a table entry; marks them PENDING."""
    out = np.empty(64, dtype=np.uint32)
    n = 0
    for i in range(cps.size):
        cp = cps[i]
        if table[cp] == 0:
            table[cp] = PENDING
            if n == out.size:
                out = _grow(out, n + 1)
            out[n] = cp
            n += 1
    return out[:n].copy()


@njit(cache=True)
def _grow(a, need):
    size = max(a.size, 16)
    while size < need:
        size *= 2
    bigger = np.empty(size, dtype=a.dtype)
    bigger[: a.size] = a
    return bigger


_ROOM = 258  # free slots kept in the word buffer past one word per code point left


@njit(cache=True)
def _simple_run(cps, i, hi, table, wh, n, h):
    """Letters, separators and dropped marks from ``cps[i]`` on, until ``hi`` or an
    entry of another kind; returns ``(i, n, h)`` where it stopped.

    No data-dependent branch (word ends are too irregular to predict): every step
    stores the pending word's pre-hash at ``wh[n]`` and only a word end moves ``n``.
    """
    while i < hi:
        e = table[cps[i]]
        if (e & np.uint32(3)) == np.uint32(0):
            break
        letter = (e & np.uint32(1)) != np.uint32(0)
        sep = e == np.uint32(TAG_SEPARATOR)
        wh[n] = h
        n += np.int64(sep & (h != _WORD_SEED))
        grown = h * _BYTE_BASE + (np.uint64(e >> np.uint32(2)) + np.uint64(1))
        h = grown if letter else (_WORD_SEED if sep else h)
        i += 1
    return i, n, h


@njit(cache=True)
def _doc_word_hashes(cps, lo, hi, table, pool, wh):
    """Word hashes of ``cps[lo:hi]`` into ``wh``, which must hold ``hi - lo + _ROOM``.

    Returns the number of words; ``-1`` at the first code point without a table
    entry; ``-2`` if keys of several words used up the room (grow ``wh``, retry).
    The avalanche runs at the end, over all the words at once.
    """
    n = 0
    h = _WORD_SEED
    i = lo
    while True:
        i, n, h = _simple_run(cps, i, hi, table, wh, n, h)
        if i >= hi:
            break
        # a key of 0 or 2+ code points (ligatures, CJK), or no entry yet
        e = table[cps[i]]
        if e == np.uint32(0) or e == PENDING:
            return -1
        start = np.int64(e >> np.uint32(10))
        stop = start + np.int64((e >> np.uint32(2)) & np.uint32(0xFF))
        for j in range(start, stop):
            c = np.uint64(pool[j])
            if c == np.uint64(_SPACE):
                if h != _WORD_SEED:
                    wh[n] = h
                    n += 1
                    h = _WORD_SEED
            else:
                h = h * _BYTE_BASE + (c + np.uint64(1))
        i += 1
        if wh.size < n + (hi - i) + _ROOM:
            return -2
    if h != _WORD_SEED:
        wh[n] = h
        n += 1
    for j in range(n):
        wh[j] = fmix64(wh[j])
    return n


@njit(cache=True)
def _words_of(cps, lo, hi, table, pool, wh):
    """``(wh, count)``: :func:`_doc_word_hashes` with ``wh`` grown as needed."""
    if wh.size < hi - lo + _ROOM:
        wh = np.empty(2 * (hi - lo) + _ROOM, dtype=np.uint64)
    count = _doc_word_hashes(cps, lo, hi, table, pool, wh)
    while count == -2:
        wh = np.empty(2 * wh.size, dtype=np.uint64)
        count = _doc_word_hashes(cps, lo, hi, table, pool, wh)
    return wh, count


@njit(cache=True)
def _insertion_sort(a, lo, hi):
    for i in range(lo + 1, hi):
        x = a[i]
        j = i
        while j > lo and a[j - 1] > x:
            a[j] = a[j - 1]
            j -= 1
        a[j] = x


_MAX_BUCKET_BITS = 22  # at most 4M buckets (32 MiB of counts), for huge documents


@njit(cache=True)
def _sort_unique_into(grams, m, out, pos, counts):
    """Sorted distinct values of ``grams[:m]`` written to ``out[pos:]``; returns the end.

    Hashes are uniform, so a counting pass on the top bits leaves about one value per
    bucket and an insertion sort finishes in linear expected time. ``counts`` must
    hold ``2 ** _bucket_bits(m) + 1`` entries.
    """
    if m <= 32:
        out[pos : pos + m] = grams[:m]
    else:
        bits = _bucket_bits(m)
        shift = np.uint64(64 - bits)
        buckets = 1 << bits
        counts[: buckets + 1] = 0
        for i in range(m):
            counts[np.int64(grams[i] >> shift) + 1] += 1
        for b in range(buckets):
            counts[b + 1] += counts[b]
        for i in range(m):
            b = np.int64(grams[i] >> shift)
            out[pos + counts[b]] = grams[i]
            counts[b] += 1
    _insertion_sort(out, pos, pos + m)
    k = pos + 1
    for i in range(pos + 1, pos + m):
        if out[i] != out[k - 1]:
            out[k] = out[i]
            k += 1
    return k


@njit(cache=True)
def _bucket_bits(m):
    bits = 1
    while (1 << bits) < m and bits < _MAX_BUCKET_BITS:
        bits += 1
    return bits


@njit(cache=True)
def shingle_docs(cps, starts, table, pool, ngram, multipliers, values, pos, width, windows, a, b):
    """Sorted unique n-gram hashes of every document, written to ``values`` from ``pos``;
    with ``width > 0``, also the MinHash signatures (permutations ``a``, ``b``) of the lead
    and, when ``windows``, the windows (:func:`_sign_windows`) of each document of more than
    ``width`` words, signed from its n-grams as they are hashed.

    Returns ``(values, offsets, word counts, end, signatures, owners)``: ``values`` is grown
    if needed and ``offsets`` are positions in it (``offsets[0] == pos``), or
    ``offsets[0] == -1`` if some code point has no table entry yet; the window signatures
    are laid end to end (``a.size`` per row), row ``r`` belonging to document ``owners[r]``.
    """
    n_docs = starts.size - 1
    offsets = np.empty(n_docs + 1, dtype=np.int64)
    offsets[0] = pos
    words = np.zeros(n_docs, dtype=np.int64)
    wh = np.empty(4096, dtype=np.uint64)
    grams = np.empty(4096, dtype=np.uint64)
    counts = np.empty(4096 + 1, dtype=np.int64)
    signatures = np.empty(0, dtype=np.uint32)
    owners = np.empty(0, dtype=np.int64)
    rows = 0
    for d in range(n_docs):
        wh, count = _words_of(cps, starts[d], starts[d + 1], table, pool, wh)
        if count < 0:
            offsets[0] = -1
            return values, offsets, words, pos, signatures[:0], owners[:0]
        words[d] = count
        if count > 0:
            grams, m = _put_grams(wh, 0, count, ngram, multipliers, grams, 0)
            if 0 < width < count:
                signatures, owners, rows = _sign_windows(wh, grams, count, ngram, multipliers, width, windows, a, b,
                                                         signatures, owners, rows, d)
            if counts.size < (1 << _bucket_bits(m)) + 1:
                counts = np.empty((1 << _bucket_bits(m)) + 1, dtype=np.int64)
            if pos + m > values.size:
                values = _grow(values, pos + m)
            pos = _sort_unique_into(grams, m, values, pos, counts)
        offsets[d + 1] = pos
    return values, offsets, words, pos, signatures[: rows * a.size], owners[:rows]


@njit(cache=True)
def _sign_windows(wh, grams, count, ngram, multipliers, width, windows, a, b, signatures, owners, rows, d):
    """Append the signatures of document ``d``'s lead (its first ``width // 2`` words) and,
    when ``windows`` and it has more than ``2 * width`` words, its windows of ``width`` words every
    ``width // 2`` words, the last one ending with the document. A row is signed like a
    text of its own words: from the document's n-grams ``grams`` (of word hashes ``wh``)
    inside it, or one gram of all its words when it has fewer than ``ngram``."""
    step = max(width // 2, 1)
    n_windows = 0
    if windows and count > 2 * width:
        n_windows = (count - width + step - 1) // step + 1
    need = rows + n_windows + 1
    if need > owners.size:
        owners = _grow(owners, need)
    if need * a.size > signatures.size:
        signatures = _grow(signatures, need * a.size)
    for k in range(n_windows + 1):
        lo, hi = 0, step  # the lead
        if k > 0:
            lo = (k - 1) * step if k < n_windows else count - width
            hi = lo + width
        sig = signatures[rows * a.size : (rows + 1) * a.size]
        sig[:] = _EMPTY
        if hi - lo >= ngram:
            _sign_into(grams, lo, hi - ngram + 1, a, b, sig)
        else:
            single, _ = _put_grams(wh, lo, hi, ngram, multipliers, np.empty(1, dtype=np.uint64), 0)
            _sign_into(single, 0, 1, a, b, sig)
        owners[rows] = d
        rows += 1
    return signatures, owners, rows


@njit(cache=True)
def _put_grams(wh, lo, hi, ngram, multipliers, values, pos):
    """The n-gram hashes of words ``lo..hi-1`` (one gram of them all when fewer than
    ``ngram``), in word order, written to ``values`` from ``pos`` (grown if needed)."""
    width = min(hi - lo, ngram)
    m = hi - lo - width + 1
    if pos + m > values.size:
        values = _grow(values, pos + m)
    if width == 3:  # the default: unrolled
        m0, m1, m2 = multipliers[0], multipliers[1], multipliers[2]
        for i in range(lo, lo + m):
            values[pos + i - lo] = fmix64(wh[i] * m0 + wh[i + 1] * m1 + wh[i + 2] * m2)
    else:
        for i in range(m):
            acc = np.uint64(0)
            for k in range(width):
                acc += wh[lo + i + k] * multipliers[k]
            values[pos + i] = fmix64(acc)
    return values, pos + m


@njit(cache=True)
def word_hashes(cps, starts, table, pool):
    """Word hashes of every document end to end, and each document's word count.

    Returns ``counts[0] == -1`` if some code point has no table entry yet.
    """
    n_docs = starts.size - 1
    counts = np.zeros(max(n_docs, 1), dtype=np.int64)[:n_docs]
    out = np.empty(max(16, cps.size // 4), dtype=np.uint64)
    wh = np.empty(4096, dtype=np.uint64)
    pos = 0
    for d in range(n_docs):
        wh, count = _words_of(cps, starts[d], starts[d + 1], table, pool, wh)
        if count < 0:
            counts[0] = -1
            return out[:0], counts
        counts[d] = count
        if pos + count > out.size:
            out = _grow(out, pos + count)
        out[pos : pos + count] = wh[:count]
        pos += count
    return out[:pos].copy(), counts


@njit(cache=True)
def _key_step(out, pos, begin, c, letter, separator, pending, in_digits, fold_digits):
    """Write one key code point ``c`` (when ``letter``; a separator or a dropped mark
    otherwise) to ``out`` at ``pos``, which has room for two: the space a pending word break
    owes first, and an ASCII digit run folded to one ``0`` when ``fold_digits``. Returns
    ``(pos, pending, in_digits)`` after it.

    No data-dependent branch (word ends are too irregular to predict): a space and a letter
    are stored at every step and ``pos`` moves past those that count.
    """
    space = letter & pending
    out[pos] = _SPACE
    pos += np.int64(space)
    in_digits = in_digits & (not space)
    digit = fold_digits & ((c - np.uint32(_ZERO)) <= np.uint32(_NINE - _ZERO))
    out[pos] = np.uint32(_ZERO) if digit else c
    pos += np.int64(letter & (not (digit & in_digits)))
    in_digits = digit if letter else in_digits
    pending = (pos > begin) if separator else (pending & (not letter))
    return pos, pending, in_digits


@njit(cache=True)
def _simple_keys(cps, i, hi, table, out, pos, begin, pending, in_digits, fold_digits):
    """Key letters, separators and dropped marks from ``cps[i]`` on, written to ``out``
    from ``pos`` (which has room for two code points per input one), until ``hi`` or an
    entry of another kind; returns ``(i, pos, pending, in_digits)`` where it stopped."""
    while i < hi:
        e = table[cps[i]]
        if (e & np.uint32(3)) == np.uint32(0):
            break
        letter = (e & np.uint32(1)) != np.uint32(0)  # a single key letter is never a space
        pos, pending, in_digits = _key_step(out, pos, begin, e >> np.uint32(2), letter, e == np.uint32(TAG_SEPARATOR),
                                            pending, in_digits, fold_digits)
        i += 1
    return i, pos, pending, in_digits


@njit(cache=True)
def doc_keys(cps, starts, table, pool, fold_digits):
    """The key text of every document as code points, words joined by one space; with
    ``fold_digits``, each run of ASCII digits in it becomes one ``0``.

    Returns ``offsets[0] == -1`` if some code point has no table entry yet.
    """
    out = np.empty(max(16, cps.size + 16), dtype=np.uint32)
    offsets = np.zeros(starts.size, dtype=np.int64)
    pos = 0
    for d in range(starts.size - 1):
        begin = pos
        pending_space = False
        in_digits = False
        i, hi = starts[d], starts[d + 1]
        while i < hi:
            if pos + 2 * (hi - i) + 2 > out.size:
                out = _grow(out, pos + 2 * (hi - i) + 2)
            i, pos, pending_space, in_digits = _simple_keys(
                cps, i, hi, table, out, pos, begin, pending_space, in_digits, fold_digits)
            if i == hi:
                break
            e = np.uint64(table[cps[i]])  # a key of several code points, or no entry yet
            i += 1
            if e == np.uint64(0) or e == np.uint64(PENDING):
                offsets[0] = -1
                return out[:0], offsets
            start = np.int64(e >> np.uint64(10))
            for j in range(start, start + np.int64((e >> np.uint64(2)) & np.uint64(0xFF))):
                if pos + 2 > out.size:
                    out = _grow(out, pos + 2)
                c = pool[j]
                pos, pending_space, in_digits = _key_step(out, pos, begin, c, c != _SPACE, c == _SPACE,
                                                          pending_space, in_digits, fold_digits)
        offsets[d + 1] = pos
    return out[:pos].copy(), offsets


@njit(cache=True)
def _low_mixed(value):
    return np.uint32(fmix32(value & np.uint64(0xFFFFFFFF)))


@njit(cache=True)
def minhash_docs(values, offsets, a, b):
    """datasketch affine32 MinHash of the low 32 bits of each document's hashes."""
    n_docs = offsets.size - 1
    out = np.empty((n_docs, a.size), dtype=np.uint32)
    sig = np.empty(a.size, dtype=np.uint32)
    for d in range(n_docs):
        sig[:] = _EMPTY
        _sign_into(values, offsets[d], offsets[d + 1], a, b, sig)
        out[d, :] = sig
    return out


@njit(cache=True)
def _sign_into(values, lo, hi, a, b, sig):
    """Lower the running minima ``sig`` with the MinHash of ``values[lo:hi]``.

    Four shingles per pass over the permutations: the permutation loop vectorizes
    (uint32 multiply, add, min), and the running minima are loaded and stored a
    quarter as often.
    """
    i = lo
    while i + 4 <= hi:
        h0, h1 = _low_mixed(values[i]), _low_mixed(values[i + 1])
        h2, h3 = _low_mixed(values[i + 2]), _low_mixed(values[i + 3])
        for p in range(a.size):
            ap, bp = a[p], b[p]
            x0, x1 = np.uint32(ap * h0 + bp), np.uint32(ap * h1 + bp)
            x2, x3 = np.uint32(ap * h2 + bp), np.uint32(ap * h3 + bp)
            sig[p] = min(sig[p], min(min(x0, x1), min(x2, x3)))
        i += 4
    while i < hi:
        h0 = _low_mixed(values[i])
        for p in range(a.size):
            sig[p] = min(sig[p], np.uint32(a[p] * h0 + b[p]))
        i += 1


@njit(cache=True, nogil=True)
def pair_overlaps(values, offsets, common, pairs):
    """For each pair ``(i, j)`` of sorted unique shingle sets: the shared shingles, the smaller
    set's non-common shingles (``common`` flags each entry of ``values``), and how many of
    those the other set holds. One merge per pair."""
    n = pairs.shape[0]
    shared = np.zeros(n, np.int64)
    own = np.zeros(n, np.int64)
    own_shared = np.zeros(n, np.int64)
    for k in range(n):
        i = pairs[k, 0]
        j = pairs[k, 1]
        if offsets[i + 1] - offsets[i] > offsets[j + 1] - offsets[j]:
            i, j = j, i
        q = offsets[j]
        b1 = offsets[j + 1]
        for p in range(offsets[i], offsets[i + 1]):
            x = values[p]
            while q < b1 and values[q] < x:
                q += 1
            hit = q < b1 and values[q] == x
            if hit:
                shared[k] += 1
            if not common[p]:
                own[k] += 1
                if hit:
                    own_shared[k] += 1
    return shared, own, own_shared


@njit(cache=True, nogil=True)
def bucket_pairs(members, bounds, max_bucket):
    """Pairs of ``members`` within each bucket ``bounds[b]:bounds[b + 1]``: all of them in
    a bucket of at most ``max_bucket`` members, else a star from its first member and a
    chain through the rest."""
    count = 0
    for b in range(bounds.size - 1):
        s = bounds[b + 1] - bounds[b]
        count += s * (s - 1) // 2 if s <= max_bucket else max(2 * s - 3, 0)
    first = np.empty(count, dtype=np.int64)
    second = np.empty(count, dtype=np.int64)
    k = 0
    for b in range(bounds.size - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if hi - lo <= max_bucket:
            for i in range(lo, hi):
                for j in range(i + 1, hi):
                    first[k] = members[i]
                    second[k] = members[j]
                    k += 1
        else:
            for i in range(lo + 1, hi):
                first[k] = members[lo]
                second[k] = members[i]
                k += 1
            for i in range(lo + 1, hi - 1):
                first[k] = members[i]
                second[k] = members[i + 1]
                k += 1
    return first, second


@njit(cache=True)
def pair_codes(first, second):
    """``(smaller << 31) | larger`` of each pair ``first[i], second[i]`` of two different
    positions (below ``2**31``), in order."""
    out = np.empty(first.size, np.int64)
    k = 0
    for i in range(first.size):
        a, b = first[i], second[i]
        if a != b:
            out[k] = (min(a, b) << 31) | max(a, b)
            k += 1
    return out[:k]


@njit(cache=True)
def union(parent, edges):
    """Join the ends of every edge (``(m, 2)``) in the forest ``parent``, in place; a root
    is always the smallest node of its tree, so every parent is smaller than its child.
    Union-find with path halving."""
    for k in range(edges.shape[0]):
        a = edges[k, 0]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = edges[k, 1]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b


@njit(cache=True)
def settle(parent):
    """Point every node of the forest ``parent`` (made by :func:`union`) at its root, in
    place: one pass, since parents come before their children."""
    for i in range(parent.size):
        parent[i] = parent[parent[i]]
    return parent


@njit(cache=True)
def word_counts(cps, starts, table):
    """Words of each text ``starts[i]:starts[i + 1]`` of ``cps``: runs of word characters
    (``table[cp] & 1``); a text with CJK characters (``table[cp] & 2``) counts each CJK
    run as half its characters instead (see :func:`dedup.boilerplate.lines.count_words`)."""
    n = starts.size - 1
    out = np.zeros(n, np.int64)
    for d in range(n):
        words = 0
        cjk = 0
        runs = 0
        prev_word = False
        prev_cjk = False
        for i in range(starts[d], starts[d + 1]):
            flags = table[cps[i]]
            word = (flags & 1) != 0
            han = (flags & 2) != 0
            if word and not prev_word:
                words += 1
            if han:
                cjk += 1
                if not prev_cjk:
                    runs += 1
            prev_word = word
            prev_cjk = han
        out[d] = words - runs + cjk // 2 + 1 if cjk else words
    return out




@njit(cache=True)
def take_rows(values, offsets, rows):
    """Rows ``rows`` of a ragged array (row ``i`` is ``values[offsets[i]:offsets[i + 1]]``),
    end to end."""
    total = 0
    for r in rows:
        total += offsets[r + 1] - offsets[r]
    out = np.empty(total, values.dtype)
    at = 0
    for r in rows:
        n = offsets[r + 1] - offsets[r]
        out[at : at + n] = values[offsets[r] : offsets[r + 1]]
        at += n
    return out

# -- the chain guard: stars cut from a connected set of documents, one after another ----
#
# A piece is a connected set of documents ("rows", numbered in position order) being cut.
# Its shingle entries carry dense ids; ``counts[id]`` is how many rows still in the piece
# hold that shingle, so a row's coverage sum (see :mod:`dedup.cluster`) is the sum of
# ``counts`` over its entries. Rows leave (``alive`` goes False) and counts only drop, so
# a sum once computed stays an upper bound: a max-heap of those bounds, recomputed only
# at its top, finds the leaders without recomputing every row at every cut.


@njit(cache=True)
def _table_size(n):
    """A power of two at least twice ``n``: an open-addressing table that stays half empty."""
    size = 16
    while size < 2 * n:
        size *= 2
    return size


@njit(cache=True)
def _hash_table(n):
    """An empty open-addressing table for ``n`` uint64 values: keys, and each slot's id
    (-1: empty)."""
    size = _table_size(n)
    return np.empty(size, np.uint64), np.full(size, -1, np.int64)


@njit(cache=True)
def _slot(keys, slot_id, v):
    """The slot of ``v`` in the table ``(keys, slot_id)``: where it is, or the empty slot
    where it goes."""
    mask = np.uint64(keys.size - 1)
    at = fmix64(v) & mask
    while slot_id[at] >= 0 and keys[at] != v:
        at = (at + np.uint64(1)) & mask
    return at


@njit(cache=True)
def _insert(keys, slot_id, v, new_id):
    """The slot of ``v`` in the table ``(keys, slot_id)``, where it is put with id
    ``new_id`` if it was not there yet (then ``slot_id[slot] == new_id``)."""
    at = _slot(keys, slot_id, v)
    if slot_id[at] < 0:
        keys[at] = v
        slot_id[at] = new_id
    return at


@njit(cache=True)
def entry_ids(values, offsets, rows):
    """Dense ids of the values of ``rows`` (their entries row after row; equal values,
    equal ids), and how many ids there are."""
    total = 0
    for r in rows:
        total += offsets[r + 1] - offsets[r]
    keys, slot_id = _hash_table(total)
    ids = np.empty(total, np.int64)
    n = 0
    e = 0
    for r in rows:
        for p in range(offsets[r], offsets[r + 1]):
            at = _insert(keys, slot_id, values[p], n)
            if slot_id[at] == n:
                n += 1
            ids[e] = slot_id[at]
            e += 1
    return ids, n


@njit(cache=True, nogil=True)
def member_mask(values, members):
    """Whether each of ``values`` is one of the distinct ``members`` (an open-addressing
    table of the members, probed once per value)."""
    keys, slot_id = _hash_table(members.size)
    for v in members:
        _insert(keys, slot_id, v, 0)
    out = np.empty(values.size, np.bool_)
    for i in range(values.size):
        out[i] = slot_id[_slot(keys, slot_id, values[i])] >= 0
    return out


@njit(cache=True, nogil=True)
def walked_member_mask(values, order, members):
    """Whether each of ``values`` is one of ``members`` (distinct, ascending): the values,
    taken in ascending order (``order``, their positions), walked along the members."""
    out = np.empty(values.size, np.bool_)
    j = 0
    for i in order:
        v = values[i]
        while j < members.size and members[j] < v:
            j += 1
        out[i] = j < members.size and members[j] == v
    return out


@njit(cache=True)
def _spread(values, target):
    """``values`` spread over ``2**bits`` buckets by their hash, each holding about
    ``target`` (equal values share a bucket; positions ascend within one): the positions
    and the values in bucket order, where each bucket starts, and the largest size."""
    bits = 0
    while bits < 20 and (values.size >> bits) > target:
        bits += 1
    return _spread_over(values, bits)


@njit(cache=True)
def _spread_over(values, bits):
    """:func:`_spread` over ``2**bits`` buckets."""
    n = values.size
    starts = np.zeros((1 << bits) + 1, np.int64)
    bucket = np.empty(n, np.int64)
    for i in range(n):  # the top ``bits`` of the hash, in two shifts (a shift by 64 is undefined)
        b = np.int64(fmix64(np.uint64(values[i])) >> np.uint64(63 - bits) >> np.uint64(1))
        bucket[i] = b
        starts[b + 1] += 1
    largest = 0
    for b in range(1 << bits):
        largest = max(largest, starts[b + 1])
        starts[b + 1] += starts[b]
    positions = np.empty(n, np.int64)
    spread = np.empty(n, values.dtype)
    fill = starts[:-1].copy()
    for i in range(n):
        at = fill[bucket[i]]
        positions[at] = i
        spread[at] = values[i]
        fill[bucket[i]] += 1
    return positions, spread, starts, largest


@njit(cache=True)
def equal_spans(table, ordered, limit):
    """Where the entries equal to each of the ascending ``ordered`` keys start in the
    ascending ``table``, and how many there are (at most ``limit``). Each search gallops
    from where the one before ended, so sorted keys walk the table once."""
    n = table.size
    starts = np.empty(ordered.size, np.int64)
    counts = np.zeros(ordered.size, np.int64)
    at = 0
    for i in range(ordered.size):
        key = ordered[i]
        if at < n and table[at] < key:  # the first entry >= key lies past ``at``: gallop, then halve
            bound = 1
            while at + bound < n and table[at + bound] < key:
                bound *= 2
            lo, hi = at + bound // 2 + 1, min(at + bound, n)
            while lo < hi:
                mid = (lo + hi) >> 1
                if table[mid] < key:
                    lo = mid + 1
                else:
                    hi = mid
            at = lo
        starts[i] = at
        c = 0
        while c < limit and at + c < n and table[at + c] == key:
            c += 1
        counts[i] = c
    return starts, counts


@njit(cache=True)
def spread_values(values):
    """``values`` spread by :func:`_spread` over buckets of a few thousand, for
    :func:`counts_among`: the values in bucket order, where each bucket starts, and the
    largest size."""
    return _spread(values, 4096)[1:]


@njit(cache=True)
def counts_among(spread, starts, largest, queries):
    """How many times each of ``queries`` occurs among the values :func:`spread_values`
    spread: the queries are spread over the same buckets, and each bucket's values counted
    in a small table that stays in cache."""
    bits = 0
    while (1 << bits) < starts.size - 1:
        bits += 1
    positions, asked, asked_starts, _ = _spread_over(queries, bits)
    all_keys, all_counts = _hash_table(largest)
    out = np.zeros(queries.size, np.int64)
    for b in range(starts.size - 1):
        keys, counts = _cleared(all_keys, all_counts, starts[b + 1] - starts[b])
        for i in range(starts[b], starts[b + 1]):
            counts[_insert(keys, counts, spread[i], 0)] += 1
        for i in range(asked_starts[b], asked_starts[b + 1]):
            found = counts[_slot(keys, counts, asked[i])]
            if found > 0:
                out[positions[i]] = found
    return out


@njit(cache=True)
def _cleared(keys, slot_id, n):
    """The first slots of the table ``(keys, slot_id)`` that hold ``n`` values, emptied."""
    size = _table_size(n)
    slot_id[:size] = -1
    return keys[:size], slot_id[:size]


@njit(cache=True)
def grouped_order(part, groups):
    """Positions of ``part`` (values ``0..groups-1``) grouped by value, ascending within a
    group, and where each group starts (``groups + 1`` bounds): a counting sort, whose only
    array as long as ``part`` is the result."""
    bounds = np.zeros(groups + 1, np.int64)
    for i in range(part.size):
        bounds[part[i] + 1] += 1
    for g in range(groups):
        bounds[g + 1] += bounds[g]
    fill = bounds[:-1].copy()
    order = np.empty(part.size, np.int64)
    for i in range(part.size):
        g = part[i]
        order[fill[g]] = i
        fill[g] += 1
    return order, bounds


@njit(cache=True, nogil=True)
def bucket_runs(keys):
    """Rows grouped by equal ``keys``, ascending within a group, and which entries of that
    order start a group; groups come in no particular order. Keys are spread by hash
    over cache-sized buckets (:func:`_spread`), each grouped through a small table."""
    n = keys.size
    positions, spread, starts, largest = _spread(keys, 4096)
    table, slot_id = _hash_table(largest)
    group = np.empty(largest, np.int64)
    sizes = np.empty(largest + 1, np.int64)
    order = np.empty(n, np.int64)
    first = np.zeros(n, np.bool_)
    for b in range(starts.size - 1):
        lo, hi = starts[b], starts[b + 1]
        t, ids = _cleared(table, slot_id, hi - lo)
        m = 0
        for i in range(lo, hi):
            at = _insert(t, ids, spread[i], m)
            if ids[at] == m:
                sizes[m + 1] = 0
                m += 1
            group[i - lo] = ids[at]
            sizes[group[i - lo] + 1] += 1
        sizes[0] = lo
        for g in range(m):
            first[sizes[g]] = True
            sizes[g + 1] += sizes[g]
        for i in range(lo, hi):
            g = group[i - lo]
            order[sizes[g]] = positions[i]
            sizes[g] += 1
    return order, first


@njit(cache=True, nogil=True)
def top_bits_part(values, bits, part):
    """The ``values`` whose top ``bits`` (1 to 8) are ``part``, in order."""
    shift = np.uint64(64 - bits)
    n = 0
    for i in range(values.size):
        n += (values[i] >> shift) == part
    out = np.empty(n, values.dtype)
    k = 0
    for i in range(values.size):
        if (values[i] >> shift) == part:
            out[k] = values[i]
            k += 1
    return out


@njit(cache=True, nogil=True)
def frequent_values(values, above):
    """The distinct ``values`` found more than ``above`` times, sorted. The values are
    spread by their hash over buckets of a few thousand (:func:`_spread`), each counted
    in a small table that stays in cache."""
    spread, starts, largest = _spread(values, 4096)[1:]
    all_keys, all_counts = _hash_table(largest)
    need = max(above, 0) + 1  # the count at which a value is found
    found = np.empty(values.size, values.dtype)
    k = 0
    for b in range(starts.size - 1):
        lo, hi = starts[b], starts[b + 1]
        keys, counts = _cleared(all_keys, all_counts, hi - lo)
        for i in range(lo, hi):
            at = _insert(keys, counts, spread[i], 0)
            counts[at] += 1
            if counts[at] == need:
                found[k] = spread[i]
                k += 1
    return np.sort(found[:k])


@njit(cache=True)
def group_by(keys, n_keys, items):
    """``items`` grouped by ``keys`` (each in ``0..n_keys-1``), in order within a key, and
    where each key's items start (``n_keys + 1`` offsets)."""
    starts = np.zeros(n_keys + 1, np.int64)
    for k in keys:
        starts[k + 1] += 1
    for k in range(n_keys):
        starts[k + 1] += starts[k]
    fill = starts[:-1].copy()
    out = np.empty(items.size, np.int64)
    for i in range(items.size):
        out[fill[keys[i]]] = items[i]
        fill[keys[i]] += 1
    return starts, out


@njit(cache=True)
def _row_sum(row, ids, row_offsets, counts):
    """The sum of ``counts`` over the entries of ``row``."""
    total = 0
    for e in range(row_offsets[row], row_offsets[row + 1]):
        total += counts[ids[e]]
    return total


@njit(cache=True)
def row_sums(ids, row_offsets, counts):
    """The sum of ``counts`` over each row's entries."""
    out = np.empty(row_offsets.size - 1, np.int64)
    for r in range(out.size):
        out[r] = _row_sum(r, ids, row_offsets, counts)
    return out


@njit(cache=True)
def drop_rows(rows, ids, row_offsets, counts, alive):
    """Take ``rows`` out of the piece: no longer alive, their shingles counted once less."""
    for r in rows:
        alive[r] = False
        for e in range(row_offsets[r], row_offsets[r + 1]):
            counts[ids[e]] -= 1


@njit(cache=True)
def _above(i, j, bound):
    """Whether row ``i`` sits above row ``j`` in the heap: larger bound, then smaller row."""
    return bound[i] > bound[j] or (bound[i] == bound[j] and i < j)


@njit(cache=True)
def _sift_down(heap, size, at, bound):
    """Move ``heap[at]`` down to its place among the first ``size`` entries."""
    while True:
        top = at
        for child in (2 * at + 1, 2 * at + 2):
            if child < size and _above(heap[child], heap[top], bound):
                top = child
        if top == at:
            return
        heap[at], heap[top] = heap[top], heap[at]
        at = top


@njit(cache=True)
def _sift_up(heap, at, bound):
    """Move ``heap[at]`` up to its place."""
    while at > 0 and _above(heap[at], heap[(at - 1) // 2], bound):
        heap[at], heap[(at - 1) // 2] = heap[(at - 1) // 2], heap[at]
        at = (at - 1) // 2


@njit(cache=True)
def heapify(heap, bound):
    """Arrange ``heap`` (rows) as a max-heap of ``bound``."""
    for at in range(heap.size // 2 - 1, -1, -1):
        _sift_down(heap, heap.size, at, bound)


@njit(cache=True)
def _settle_top(heap, size, bound, fresh, epoch, alive, ids, row_offsets, counts):
    """Make the top of the heap an alive row whose bound is its exact sum at ``epoch``
    (dropping rows that left, recomputing stale bounds); the heap's new size."""
    while size > 0:
        i = heap[0]
        if not alive[i]:
            size -= 1
            heap[0] = heap[size]
        elif fresh[i] != epoch:
            bound[i] = _row_sum(i, ids, row_offsets, counts)
            fresh[i] = epoch
        else:
            return size
        _sift_down(heap, size, 0, bound)
    return size


@njit(cache=True)
def _pop(heap, size, bound):
    """Take the top off the heap; its new size."""
    size -= 1
    heap[0] = heap[size]
    _sift_down(heap, size, 0, bound)
    return size


@njit(cache=True)
def leaders(heap, size, bound, fresh, epoch, alive, ids, row_offsets, counts, total, window):
    """The rows whose coverage (exact sum / ``total``) is within ``window`` of the best,
    and the next best when that is the best alone; their exact sums are left in
    ``bound``. Returns them and the heap's size (they stay in the heap)."""
    out = np.empty(max(heap.size, 1), np.int64)
    found = 0
    size = _settle_top(heap, size, bound, fresh, epoch, alive, ids, row_offsets, counts)
    least = bound[heap[0]] / total - window
    while size > 0:
        i = heap[0]
        if not alive[i]:
            size = _pop(heap, size, bound)
        elif bound[i] / total < least:
            break
        elif fresh[i] != epoch:
            bound[i] = _row_sum(i, ids, row_offsets, counts)
            fresh[i] = epoch
            _sift_down(heap, size, 0, bound)
        else:
            out[found] = i
            found += 1
            size = _pop(heap, size, bound)
    if found == 1:
        size = _settle_top(heap, size, bound, fresh, epoch, alive, ids, row_offsets, counts)
        if size > 0:
            out[found] = heap[0]
            found += 1
            size = _pop(heap, size, bound)
    for k in range(found):
        heap[size] = out[k]
        _sift_up(heap, size, bound)
        size += 1
    return out[:found].copy(), size


@njit(cache=True)
def shared_with(row, ids, row_offsets, holder_starts, holders, alive):
    """For every row: how many shingles of ``row`` it holds (0 for rows not alive)."""
    shared = np.zeros(alive.size, np.int64)
    for e in range(row_offsets[row], row_offsets[row + 1]):
        k = ids[e]
        for h in holders[holder_starts[k] : holder_starts[k + 1]]:
            if alive[h]:
                shared[h] += 1
    return shared


@njit(cache=True)
def settle_star(star, canonical, against, edge_starts, edges, ends, weights, alive):
    """Drop from ``star`` (rows) every member other than ``canonical`` that has a partner
    outside the star, still in the piece, more similar to it (``weights``) than the
    canonical is (``against``), until none has; in place. Row ``r``'s edges are
    ``edges[edge_starts[r]:edge_starts[r + 1]]``, edge ``k`` joins rows ``ends[k, 0]`` and
    ``ends[k, 1]``."""
    members = np.flatnonzero(star)
    leave = np.zeros(members.size, np.bool_)
    while True:
        for m in range(members.size):
            r = members[m]
            best = 0.0
            if star[r]:
                for k in edges[edge_starts[r] : edge_starts[r + 1]]:
                    other = ends[k, 0] + ends[k, 1] - r
                    if alive[other] and not star[other]:
                        best = max(best, weights[k])
            leave[m] = star[r] and r != canonical and best > against[r]
        if not leave.any():
            return star
        for m in range(members.size):
            if leave[m]:
                star[members[m]] = False


@njit(cache=True)
def split_parts(ends, live, alive):
    """Connected parts of the alive rows under the edges ``ends[live]``: each row's part
    (its smallest row; meaningless for rows not alive), and the edges still inside."""
    keep = np.empty(live.size, np.bool_)
    for i in range(live.size):
        keep[i] = alive[ends[live[i], 0]] and alive[ends[live[i], 1]]
    kept = live[keep]
    parent = np.arange(alive.size)
    union(parent, ends[kept])
    return settle(parent), kept

# -- the words that differ between a copy and its canonical ----------------------------
#
# Texts are UTF-8 bytes laid end to end. ``classes[cp]`` marks each code point: bit 0, it
# separates words (what ``str.split()`` splits at); bit 1, a word holding it counts as a
# number (sorted first). Words compare as Python strings do: UTF-8 byte order is code
# point order.


@njit(cache=True)
def _code_point(text, i):
    """The code point whose UTF-8 sequence starts at ``text[i]``, and its length in bytes."""
    b = np.int64(text[i])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(text[i + 1]) & 0x3F), 2
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((np.int64(text[i + 1]) & 0x3F) << 6) | (np.int64(text[i + 2]) & 0x3F), 3
    return (((b & 0x07) << 18) | ((np.int64(text[i + 1]) & 0x3F) << 12) | ((np.int64(text[i + 2]) & 0x3F) << 6)
            | (np.int64(text[i + 3]) & 0x3F)), 4


@njit(cache=True)
def _split_words(text, lo, hi, classes, starts, ends, hashes):
    """The words of ``text[lo:hi]``: byte ranges and word hashes, into the arrays given
    (which need ``(hi - lo + 1) // 2`` entries); their count."""
    n = 0
    inside = False
    h = _WORD_SEED
    i = lo
    while i < hi:
        if text[i] < 0x80:
            cp, step = np.int64(text[i]), 1
        else:
            cp, step = _code_point(text, i)
        if classes[cp] & 1:
            if inside:
                ends[n] = i
                hashes[n] = fmix64(h)
                n += 1
                inside = False
        else:
            if not inside:
                starts[n] = i
                h = _WORD_SEED
                inside = True
            h = h * _BYTE_BASE + np.uint64(cp + 1)
        i += step
    if inside:
        ends[n] = hi
        hashes[n] = fmix64(h)
        n += 1
    return n


@njit(cache=True)
def _same(text, s1, e1, s2, e2):
    """Whether ``text[s1:e1]`` and ``text[s2:e2]`` hold the same bytes."""
    if e1 - s1 != e2 - s2:
        return False
    for k in range(e1 - s1):
        if text[s1 + k] != text[s2 + k]:
            return False
    return True


@njit(cache=True)
def _word_set(text, starts, ends, hashes, n, slots):
    """Index the distinct words of the first ``n`` in ``slots`` (open addressing, a power
    of two larger than ``n``, filled with -1); moves them to the front, in order of first
    appearance, and returns how many there are."""
    mask = slots.size - 1
    kept = 0
    for w in range(n):
        s, e, h = starts[w], ends[w], hashes[w]
        at = np.int64(h & np.uint64(mask))
        while True:
            other = slots[at]
            if other < 0:
                starts[kept], ends[kept], hashes[kept] = s, e, h
                slots[at] = kept
                kept += 1
                break
            if hashes[other] == h and _same(text, starts[other], ends[other], s, e):
                break
            at = (at + 1) & mask
    return kept


@njit(cache=True)
def _holds(text, s, e, h, starts, ends, hashes, slots):
    """Whether the word ``text[s:e]`` (hash ``h``) is in the set indexed by ``slots``."""
    mask = slots.size - 1
    at = np.int64(h & np.uint64(mask))
    while slots[at] >= 0:
        other = slots[at]
        if hashes[other] == h and _same(text, starts[other], ends[other], s, e):
            return True
        at = (at + 1) & mask
    return False


@njit(cache=True)
def _before(text, rank1, s1, e1, rank2, s2, e2):
    """Whether word 1 sorts before word 2: by rank, then as strings."""
    if rank1 != rank2:
        return rank1 < rank2
    for k in range(min(e1 - s1, e2 - s2)):
        if text[s1 + k] != text[s2 + k]:
            return text[s1 + k] < text[s2 + k]
    return e1 - s1 < e2 - s2


@njit(cache=True)
def _offer(text, rank, s, e, best_rank, best_start, best_end, count):
    """Insert a word into the sorted ``best`` lists if it sorts among their first
    ``best_rank.size``; the new count."""
    limit = best_rank.size
    if count == limit and not _before(text, rank, s, e, best_rank[count - 1], best_start[count - 1],
                                      best_end[count - 1]):
        return count
    at = min(count, limit - 1)
    while at > 0 and _before(text, rank, s, e, best_rank[at - 1], best_start[at - 1], best_end[at - 1]):
        best_rank[at], best_start[at], best_end[at] = best_rank[at - 1], best_start[at - 1], best_end[at - 1]
        at -= 1
    best_rank[at], best_start[at], best_end[at] = rank, s, e
    return min(count + 1, limit)


@njit(cache=True)
def differing_words(text, offsets, members, canonicals, classes, limit):
    """The words found in only one of text ``members[k]`` and text ``canonicals[k]``, for
    each ``k``: at most ``limit``, those with a number first, then the member's own before
    the canonical's, then in string order. Returns the chosen words end to end, each
    marked (``+`` the member's, ``-`` the canonical's) and followed by a newline, and
    how many each member has. A canonical's words are indexed once for a run of members
    that share it."""
    longest = 0
    for d in range(members.size):
        longest = max(longest, offsets[members[d] + 1] - offsets[members[d]],
                      offsets[canonicals[d] + 1] - offsets[canonicals[d]])
    room = (longest + 1) // 2 + 1
    c_start, c_end, c_hash = np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room, np.uint64)
    m_start, m_end, m_hash = np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room, np.uint64)
    c_slots = np.empty(_table_size(room), np.int64)
    c_rank = np.empty(room, np.int64)  # rank: 2 * (holds no number) + (the canonical's word)
    m_slots = np.empty(_table_size(room), np.int64)
    best_rank, best_start, best_end = np.empty(limit, np.int64), np.empty(limit, np.int64), np.empty(limit, np.int64)
    chosen_start = np.empty(members.size * limit, np.int64)
    chosen_end = np.empty(members.size * limit, np.int64)
    chosen_rank = np.empty(members.size * limit, np.int64)
    counts = np.zeros(members.size, np.int64)
    canonical, n_c, own = -1, 0, c_slots[:0]
    for d in range(members.size):
        m = members[d]
        if canonicals[d] != canonical:  # index the words of this member's canonical
            canonical = canonicals[d]
            n_c = _split_words(text, offsets[canonical], offsets[canonical + 1], classes, c_start, c_end, c_hash)
            own = c_slots[: _table_size(n_c)]
            own[:] = -1
            n_c = _word_set(text, c_start, c_end, c_hash, n_c, own)
            for w in range(n_c):
                c_rank[w] = 1 if _numeric(text, c_start[w], c_end[w], classes) else 3
        if _same(text, offsets[m], offsets[m + 1], offsets[canonical], offsets[canonical + 1]):
            continue  # an exact copy: no word differs
        n_m = _split_words(text, offsets[m], offsets[m + 1], classes, m_start, m_end, m_hash)
        slots = m_slots[: _table_size(n_m)]
        slots[:] = -1
        n_m = _word_set(text, m_start, m_end, m_hash, n_m, slots)
        count = 0
        for w in range(n_m):
            if not _holds(text, m_start[w], m_end[w], m_hash[w], c_start, c_end, c_hash, own):
                rank = 0 if _numeric(text, m_start[w], m_end[w], classes) else 2
                count = _offer(text, rank, m_start[w], m_end[w], best_rank, best_start, best_end, count)
        for w in range(n_c):
            if not _holds(text, c_start[w], c_end[w], c_hash[w], m_start, m_end, m_hash, slots):
                count = _offer(text, c_rank[w], c_start[w], c_end[w], best_rank, best_start, best_end, count)
        base = d * limit
        chosen_rank[base : base + count] = best_rank[:count]
        chosen_start[base : base + count] = best_start[:count]
        chosen_end[base : base + count] = best_end[:count]
        counts[d] = count
    size = 0
    for d in range(members.size):
        for k in range(d * limit, d * limit + counts[d]):
            size += chosen_end[k] - chosen_start[k] + 2
    out = np.empty(size, np.uint8)
    pos = 0
    for d in range(members.size):
        for k in range(d * limit, d * limit + counts[d]):
            out[pos] = 43 if chosen_rank[k] % 2 == 0 else 45  # "+" or "-"
            length = chosen_end[k] - chosen_start[k]
            out[pos + 1 : pos + 1 + length] = text[chosen_start[k] : chosen_end[k]]
            out[pos + 1 + length] = 10
            pos += length + 2
    return out, counts


@njit(cache=True)
def _numeric(text, s, e, classes):
    """Whether the word ``text[s:e]`` holds a code point that counts as a number."""
    i = s
    while i < e:
        cp, step = _code_point(text, i)
        if classes[cp] & 2:
            return True
        i += step
    return False
