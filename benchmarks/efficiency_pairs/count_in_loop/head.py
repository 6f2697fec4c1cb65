def most_common(words: list[str]) -> str:
    """The word that occurs most often (the first one on ties).

    >>> most_common(["a", "b", "b"])
    'b'
    """
    best = words[0]
    for w in words:
        if words.count(w) > words.count(best):
            best = w
    return best
