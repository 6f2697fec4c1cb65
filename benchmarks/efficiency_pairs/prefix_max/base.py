def running_max(values: list[int]) -> list[int]:
    """The largest value seen so far at each position."""
    out = []
    best = None
    for v in values:
        best = v if best is None or v > best else best
        out.append(best)
    return out
