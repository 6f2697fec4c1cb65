def running_max(values: list[int]) -> list[int]:
    """The largest value seen so far at each position."""
    return [max(values[: i + 1]) for i in range(len(values))]
