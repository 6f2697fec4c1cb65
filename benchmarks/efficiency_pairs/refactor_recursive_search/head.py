def contains_sorted(values: list[int], x: int) -> bool:
    """Whether x occurs in the sorted list values (binary search).

    >>> contains_sorted([1, 3, 5, 7], 5)
    True
    """

    def search(lo: int, hi: int) -> bool:
        if lo >= hi:
            return False
        mid = (lo + hi) // 2
        if values[mid] == x:
            return True
        if values[mid] < x:
            return search(mid + 1, hi)
        return search(lo, mid)

    return search(0, len(values))
