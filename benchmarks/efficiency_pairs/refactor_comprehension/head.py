def positive_squares(values: list[int]) -> list[int]:
    """Squares of the positive values."""
    return [v * v for v in values if v > 0]
