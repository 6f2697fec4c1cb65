def count_inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j] (quadratic by design, for small inputs)."""
    count = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] > values[j]:
                count += 1
    return count
