def ways(steps: int) -> int:
    """Ways to climb `steps` stairs taking 1 or 2 at a time.

    >>> ways(4)
    5
    """

    def count(k: int) -> int:
        if k <= 1:
            return 1
        return count(k - 1) + count(k - 2)

    return count(steps)
