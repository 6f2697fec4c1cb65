def contains_sorted(values: list[int], x: int) -> bool:
    """Whether x occurs in the sorted list values (binary search).

    >>> contains_sorted([1, 3, 5, 7], 5)
    True
    """
    if not values:
        return False
    mid = len(values) // 2
    if values[mid] == x:
        return True
    if values[mid] < x:
        return contains_sorted(values[mid + 1 :], x)
    return contains_sorted(values[:mid], x)
