def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
