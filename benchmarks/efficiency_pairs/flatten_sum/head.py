def flatten(rows: list[list[int]]) -> list[int]:
    """All values of all rows, row by row."""
    return sum(rows, [])
