from collections import defaultdict


def histogram(words: list[str]) -> dict[str, int]:
    """How often each word occurs."""
    counts: defaultdict[str, int] = defaultdict(int)
    for w in words:
        counts[w] += 1
    return dict(counts)
