def fib(n: int) -> int:
    """The n-th Fibonacci number.

    >>> fib(10)
    55
    """
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
