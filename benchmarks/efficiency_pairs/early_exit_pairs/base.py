def has_pair_with_sum(values: list[int], target: int) -> bool:
    """Whether two different positions of values add up to target.

    >>> has_pair_with_sum([1, 4, 6], 10)
    True
    """
    seen = set()
    for v in values:
        if target - v in seen:
            return True
        seen.add(v)
    return False
