def fib(n: int) -> int:
    """The n-th Fibonacci number.

    >>> fib(10)
    55
    """
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
