def first_repeat(values: list[int]) -> int | None:
    """The first value that occurs a second time, or None.

    >>> first_repeat([3, 1, 4, 1, 5])
    1
    """
    seen: dict[int, bool] = {}
    for v in values:
        if seen.get(v):
            return v
        seen[v] = True
    return None
