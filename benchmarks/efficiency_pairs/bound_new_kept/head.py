def unrelated(x: int) -> int:
    return x + 1


def closest_gap(values: list[int]) -> int:
    """The smallest difference between two values; runs in O(n log n) time.

    >>> closest_gap([7, 1, 4])
    3
    """
    ordered = sorted(values)
    gaps = [b - a for a, b in zip(ordered, ordered[1:])]
    return min(gaps) if gaps else 0
