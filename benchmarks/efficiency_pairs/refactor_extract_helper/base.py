def word_lengths(text: str) -> dict[str, int]:
    """Each distinct word of text with its length.

    >>> word_lengths("to be or")
    {'to': 2, 'be': 2, 'or': 2}
    """
    out = {}
    for word in text.split():
        cleaned = word.strip(".,;:!?").lower()
        if cleaned:
            out[cleaned] = len(cleaned)
    return out
