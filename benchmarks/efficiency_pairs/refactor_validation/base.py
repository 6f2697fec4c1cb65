def normalise(values: list[float]) -> list[float]:
    """Values scaled so that they sum to 1 (unchanged when they sum to 0)."""
    total = sum(values)
    if total == 0:
        return list(values)
    return [v / total for v in values]
