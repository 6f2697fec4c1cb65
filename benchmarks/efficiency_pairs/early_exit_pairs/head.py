def has_pair_with_sum(values: list[int], target: int) -> bool:
    """Whether two different positions of values add up to target.

    >>> has_pair_with_sum([1, 4, 6], 10)
    True
    """
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] + values[j] == target:
                return True
    return False
