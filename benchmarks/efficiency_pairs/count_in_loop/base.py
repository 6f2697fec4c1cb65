def most_common(words: list[str]) -> str:
    """The word that occurs most often (the first one on ties).

    >>> most_common(["a", "b", "b"])
    'b'
    """
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    best = words[0]
    for w in words:
        if counts[w] > counts[best]:
            best = w
    return best
