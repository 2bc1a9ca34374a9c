"""Byte ranges of a CFDP transaction as a short sorted list of [start, end) spans: what a receiver
holds of a file, what a sender still has to send again. Adjacent and overlapping spans merge, so
the list stays as long as the number of holes, and a limit bounds it."""


def add_span(spans, start, end):
    """Merge [start, end) into spans (a sorted list of disjoint, non-adjacent [start, end] lists);
    the number of bytes that were new."""
    if end <= start:
        return 0
    i = 0
    n = len(spans)
    while i < n and spans[i][1] < start:
        i += 1
    j = i
    new = end - start
    lo = start
    hi = end
    while j < n and spans[j][0] <= end:
        s, e = spans[j]
        new -= max(0, min(e, end) - max(s, start))
        lo = min(lo, s)
        hi = max(hi, e)
        j += 1
    spans[i:j] = [[lo, hi]]
    return new


def covers(spans, start, end):
    """True when [start, end) lies inside one span (with end <= start: always)."""
    if end <= start:
        return True
    for s, e in spans:
        if s <= start:
            if end <= e:
                return True
        else:
            break
    return False


def gaps(spans, end):
    """[(start, stop)] of the holes in spans between 0 and end."""
    out = []
    pos = 0
    for s, e in spans:
        if s >= end:
            break
        if s > pos:
            out.append((pos, s))
        pos = max(pos, e)
    if pos < end:
        out.append((pos, end))
    return out


def contiguous(spans):
    """The end of the data held from offset 0 without a hole (0 when offset 0 is missing)."""
    if spans and spans[0][0] == 0:
        return spans[0][1]
    return 0


def squeeze(spans, limit):
    """Join the two spans with the smallest hole between them until at most `limit` remain
    (a sender then resends a little more than was asked; a list never outgrows its budget)."""
    while len(spans) > limit:
        best = 0
        for i in range(1, len(spans) - 1):
            if spans[i + 1][0] - spans[i][1] < spans[best + 1][0] - spans[best][1]:
                best = i
        spans[best : best + 2] = [[spans[best][0], spans[best + 1][1]]]
