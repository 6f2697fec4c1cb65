def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats."""
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
