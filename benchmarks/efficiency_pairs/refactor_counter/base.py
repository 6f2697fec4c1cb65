def histogram(words: list[str]) -> dict[str, int]:
    """How often each word occurs."""
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return counts
