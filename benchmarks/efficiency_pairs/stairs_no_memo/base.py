def ways(steps: int) -> int:
    """Ways to climb `steps` stairs taking 1 or 2 at a time.

    >>> ways(4)
    5
    """
    memo = {0: 1, 1: 1}

    def count(k: int) -> int:
        if k not in memo:
            memo[k] = count(k - 1) + count(k - 2)
        return memo[k]

    return count(steps)
