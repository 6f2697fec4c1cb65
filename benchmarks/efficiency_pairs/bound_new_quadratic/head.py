def unrelated(x: int) -> int:
    return x + 1


def closest_gap(values: list[int]) -> int:
    """The smallest difference between two values; runs in O(n log n) time.

    >>> closest_gap([7, 1, 4])
    3
    """
    best = None
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            gap = abs(a - b)
            if best is None or gap < best:
                best = gap
    return best if best is not None else 0
