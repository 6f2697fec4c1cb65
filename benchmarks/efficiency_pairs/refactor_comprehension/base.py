def positive_squares(values: list[int]) -> list[int]:
    """Squares of the positive values."""
    out = []
    for v in values:
        if v > 0:
            out.append(v * v)
    return out
