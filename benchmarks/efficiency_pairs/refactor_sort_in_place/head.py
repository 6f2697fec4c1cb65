def median(values: list[float]) -> float:
    """The median of a non-empty list.

    >>> median([3.0, 1.0, 2.0])
    2.0
    """
    ordered = list(values)
    ordered.sort()
    mid, odd = divmod(len(ordered), 2)
    return ordered[mid] if odd else (ordered[mid - 1] + ordered[mid]) / 2
