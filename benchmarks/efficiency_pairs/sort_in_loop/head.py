def ranks(scores: list[int]) -> list[int]:
    """The 0-based rank of each score among all scores (ties share the lowest rank)."""
    out = []
    for s in scores:
        out.append(sorted(scores).index(s))
    return out
