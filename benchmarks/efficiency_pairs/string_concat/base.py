def csv_line(values: list[int]) -> str:
    """The values as one comma-separated line."""
    return ",".join(str(v) for v in values)
