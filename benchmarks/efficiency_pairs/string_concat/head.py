def csv_line(values: list[int]) -> str:
    """The values as one comma-separated line."""
    line = ""
    for i, v in enumerate(values):
        if i:
            line = line + ","
        line = line + str(v)
    return line
