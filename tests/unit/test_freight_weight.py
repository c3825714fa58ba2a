"""``omcommerce.freight.chargeable_kg``: per item max(actual, L×W×H/6000) × quantity, summed, rounded up, ≥ 1 kg."""
from decimal import Decimal

from omcommerce.freight import chargeable_kg


def parcel(weight, dims=(10, 10, 10), quantity=1):
    length, width, height = dims
    return {"weight_kg": weight, "length": length, "width": width, "height": height, "quantity": quantity}


def test_actual_weight_rounds_up_to_whole_kilograms():
    assert chargeable_kg([parcel(0.5, quantity=3)]) == 2  # 1.5 kg
    assert chargeable_kg([parcel(2)]) == 2
    assert chargeable_kg([parcel("2.01")]) == 3
    assert chargeable_kg([parcel(Decimal("0.10"), dims=(1, 1, 1), quantity=10)]) == 1  # exactly 1.00: no float drift to 2


def test_at_least_one_kilogram():
    assert chargeable_kg([parcel(0.01, dims=(1, 1, 1))]) == 1
    assert chargeable_kg([]) == 1


def test_volumetric_weight_wins_for_light_bulky_items():
    assert chargeable_kg([parcel(0.2, dims=(60, 40, 30))]) == 12  # 72,000 cm³ / 6000
    assert chargeable_kg([parcel(0.2, dims=(60, 40, 30), quantity=2)]) == 24
    assert chargeable_kg([parcel(20, dims=(60, 40, 30))]) == 20  # heavier than its volume: actual weight


def test_items_are_summed_before_rounding():
    # 0.4 + 0.4 = 0.8 → 1 kg (rounding per item would give 2)
    assert chargeable_kg([parcel(0.4), parcel(0.4)]) == 1
    assert chargeable_kg([parcel(0.6), parcel(0.6)]) == 2
    assert chargeable_kg([parcel(0.5, dims=(30, 20, 11)), parcel(0.1)]) == 2  # 1.1 volumetric + 0.1


def test_quantity_defaults_to_one():
    item = parcel(1.5)
    del item["quantity"]
    assert chargeable_kg([item]) == 2
