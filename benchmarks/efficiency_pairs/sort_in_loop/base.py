def ranks(scores: list[int]) -> list[int]:
    """The 0-based rank of each score among all scores (ties share the lowest rank)."""
    order = sorted(scores)
    first = {}
    for position, score in enumerate(order):
        first.setdefault(score, position)
    return [first[s] for s in scores]
