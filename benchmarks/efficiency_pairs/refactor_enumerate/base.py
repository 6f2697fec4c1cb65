def positions_of_max(values: list[int]) -> list[int]:
    """Indices where the largest value occurs.

    >>> positions_of_max([1, 5, 2, 5])
    [1, 3]
    """
    if not values:
        return []
    top = max(values)
    out = []
    for i in range(len(values)):
        if values[i] == top:
            out.append(i)
    return out
