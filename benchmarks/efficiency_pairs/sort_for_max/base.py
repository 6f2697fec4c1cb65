def largest(values: list[int]) -> int:
    """The largest value.

    >>> largest([3, 9, 2])
    9
    """
    return max(values)
