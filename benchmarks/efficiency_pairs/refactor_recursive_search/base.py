def contains_sorted(values: list[int], x: int) -> bool:
    """Whether x occurs in the sorted list values (binary search).

    >>> contains_sorted([1, 3, 5, 7], 5)
    True
    """
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(values) and values[lo] == x
