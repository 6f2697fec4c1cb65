def common(a: list[int], b: list[int]) -> list[int]:
    """Elements of a that also occur in b, in a's order."""
    lookup = set(b)
    return [x for x in a if x in lookup]
