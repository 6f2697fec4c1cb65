def has_negative(values: list[int]) -> bool:
    """Whether any value is below zero."""
    return any(v < 0 for v in values)
