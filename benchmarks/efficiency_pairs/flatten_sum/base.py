def flatten(rows: list[list[int]]) -> list[int]:
    """All values of all rows, row by row."""
    out = []
    for row in rows:
        out.extend(row)
    return out
