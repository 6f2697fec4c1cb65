def unrelated(x: int) -> int:
    return x + 1
