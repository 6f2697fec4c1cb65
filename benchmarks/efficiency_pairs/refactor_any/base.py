def has_negative(values: list[int]) -> bool:
    """Whether any value is below zero."""
    for v in values:
        if v < 0:
            return True
    return False
