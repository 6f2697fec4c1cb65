def evens_doubled(values: list[int]) -> list[int]:
    """Twice every even value."""
    result = []
    for v in values:
        if v % 2 == 0:
            result.append(2 * v)
    return result
