def dedupe(items: list[int]) -> list[int]:
    """Items in first-seen order without repeats."""
    already = set()
    unique_items = []
    for candidate in items:
        if candidate not in already:
            already.add(candidate)
            unique_items.append(candidate)
    return unique_items
