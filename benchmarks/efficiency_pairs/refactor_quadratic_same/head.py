def count_inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j] (quadratic by design, for small inputs)."""
    return sum(1 for i, a in enumerate(values) for b in values[i + 1 :] if a > b)
