def reverse_words(text: str) -> str:
    """The words of text in reverse order, one space apart.

    >>> reverse_words("a quick brown fox")
    'fox brown quick a'
    """
    return " ".join(reversed(text.split()))
