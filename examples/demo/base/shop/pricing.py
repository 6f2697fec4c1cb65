"""Prices, discounts and receipts."""

from __future__ import annotations


def apply_discount(price: float, percent: int) -> float:
    """Return the price after taking off `percent` percent, rounded to cents.

    >>> apply_discount(100.0, 15)
    85.0
    >>> apply_discount(19.99, 0)
    19.99
    """
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must be between 0 and 100, got {percent}")
    return round(price * (100 - percent) / 100, 2)


def average_price(prices: list[float]) -> float:
    """Mean of the prices; 0.0 for an empty basket.

    >>> average_price([2.0, 4.0])
    3.0
    """
    if not prices:
        return 0.0
    return sum(prices) / len(prices)


def slugify(name: str) -> str:
    """Lower-case, words joined by dashes.

    >>> slugify("Blue Mug")
    'blue-mug'
    """
    return "-".join(name.lower().split())
