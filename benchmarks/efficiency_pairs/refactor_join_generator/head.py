def shout(words: list[str]) -> str:
    """The words upper-cased, joined by spaces."""
    return " ".join(w.upper() for w in words)
