def count_pairs_with_sum(values: list[int], target: int) -> int:
    """How many pairs of positions i < j have values[i] + values[j] == target.

    >>> count_pairs_with_sum([1, 9, 5, 5, 9], 10)
    3
    """
    seen: dict[int, int] = {}
    count = 0
    for v in values:
        count += seen.get(target - v, 0)
        seen[v] = seen.get(v, 0) + 1
    return count
