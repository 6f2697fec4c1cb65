from shop.pricing import apply_discount, average_price


def test_discount_half():
    assert apply_discount(10.0, 50) == 5.0


def test_average():
    assert average_price([1.0, 2.0, 3.0]) == 2.0
