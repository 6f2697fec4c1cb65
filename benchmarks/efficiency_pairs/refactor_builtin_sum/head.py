def total(values: list[int]) -> int:
    """The sum of values.

    >>> total([1, 2, 3])
    6
    """
    acc = 0
    for v in values:
        acc += v
    return acc
