def count_pairs_with_sum(values: list[int], target: int) -> int:
    """How many pairs of positions i < j have values[i] + values[j] == target.

    >>> count_pairs_with_sum([1, 9, 5, 5, 9], 10)
    3
    """
    count = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] + values[j] == target:
                count += 1
    return count
