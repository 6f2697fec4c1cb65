def reverse_words(text: str) -> str:
    """The words of text in reverse order, one space apart.

    >>> reverse_words("a quick brown fox")
    'fox brown quick a'
    """
    out = ""
    for word in text.split():
        out = word + " " + out if out else word
    return out
