def normalise(values: list[float]) -> list[float]:
    """Values scaled so that they sum to 1 (unchanged when they sum to 0)."""
    if not all(isinstance(v, (int, float)) for v in values):
        raise TypeError("values must be numbers")
    total = sum(values)
    if total == 0:
        return list(values)
    return [v / total for v in values]
