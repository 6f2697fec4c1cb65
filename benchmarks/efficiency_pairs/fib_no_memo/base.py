from functools import lru_cache


def fib(n: int) -> int:
    """The n-th Fibonacci number.

    >>> fib(10)
    55
    """

    @lru_cache(maxsize=None)
    def go(k: int) -> int:
        return k if k < 2 else go(k - 1) + go(k - 2)

    return go(n)
