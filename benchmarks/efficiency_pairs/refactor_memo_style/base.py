def fib(n: int) -> int:
    """The n-th Fibonacci number.

    >>> fib(10)
    55
    """
    memo = {0: 0, 1: 1}

    def go(k: int) -> int:
        if k not in memo:
            memo[k] = go(k - 1) + go(k - 2)
        return memo[k]

    return go(n)
