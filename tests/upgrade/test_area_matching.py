"""The rules ``upgrade-v1`` places a v1 shipping area by (tools.admin.upgrade_v1.map_areas), on our real district and
village data: the whole hierarchy must agree, spelling variants of the same place are the same place, postal codes
only tell apart two candidates of one city, and anything else is held back with the reason -- never guessed. (The
CLI tests in test_v1_areas.py run the same rules end to end.)"""
import pytest

from tools.admin.upgrade_v1 import AreaIndex, map_areas
from tools.catalogue import areas as area_data


@pytest.fixture(scope="module")
def index():
    return AreaIndex({int(r["id"]): r for r in area_data.rows()})


@pytest.mark.parametrize("name, postal, expected", [
    # village level, wilayah.sql spelling through CAP_FIRST
    ("Sukabumi, Sukabumi, Kota Bandar Lampung, Lampung", "35134", 25270),
    ("Labuhan Ratu, Labuhan Ratu, Kota Bandar Lampung, Lampung", "34375", 25266),  # a postal code of Lampung Timur
    ("Gunung Sari, Rappocini, Kota Makassar, Sulawesi Selatan", "90221", 29262),  # Tamalate's postal code
    ("Rawa Terate, Cakung, Kota Adm. Jakarta Timur, Dki Jakarta", "", 25427),
    ("Astana, Gunung Jati, Kab. Cirebon, Jawa Barat", "", 25623),  # ours: "Gunung Jati (Cirebon Utara)"
    ("Topo, Tidore, Kota Tidore Kepulauan, Maluku Utara", "", 29865),  # ours: in "Tidore (Pulau Tidore)"
    ("Sukabumi, Sukabumi, Kab. Ogan Komering Ulu Selatan, Sumatera Selatan", "", None),  # no such district there
    # district level: the same district
    ("Gambir, Jakarta Pusat, Dki Jakarta", "", 25410),
    ("Menteng, Kota Administrasi Jakarta Pusat, Daerah Khusus Ibukota Jakarta", "", 25413),
    ("Sukabumi, Kabupaten Sukabumi, Jawa Barat", "", 25909),
    ("Sukabumi, Kota Sukabumi, Jawa Barat", "", None),  # Kota Sukabumi has no district Sukabumi
    ("Sukabumi, Kota Bandar Lampung, Jawa Barat", "", None),  # the province disagrees
    # not enough to tell
    ("Jakarta Pusat", "", None),
    ("Atlantis, Laut Dalam, Samudra", "", None),
    # two candidates in one city (district "Tidore" twice, village unknown): postal code decides, or nothing does
    ("Soasio Baru, Tidore, Kota Tidore Kepulauan, Maluku Utara", "97811", 29864),
    ("Soasio Baru, Tidore, Kota Tidore Kepulauan, Maluku Utara", "97813", None),
    ("Soasio Baru, Tidore, Kota Tidore Kepulauan, Maluku Utara", "", None),
])
def test_a_v1_area_lands_in_the_district_its_names_say_or_nowhere(index, name, postal, expected):
    found, how = index.match(name, {postal} if postal else set())
    assert found == expected, how
    if expected is None:
        assert name in how or "no name" in how


def test_village_named_in_another_district_of_the_city_is_held_back(index):
    # our data has village Gambir in district Gambir; a v1 row placing it in Menteng disagrees
    found, how = index.match("Gambir, Menteng, Kota Adm. Jakarta Pusat, Dki Jakarta", set())
    assert found is None and "the district disagrees" in how and "25410" in how


def test_ids_never_count_and_the_area_map_wins(index):
    ours = index.ours
    used = {25410: {"13920"}, 24515: set(), 5: set(), 7: set()}
    names = {25410: "Rawa Terate, Cakung, Kota Adm. Jakarta Timur, Dki Jakarta",
             24515: "Sukabumi, Sukabumi, Kota Bandar Lampung, Lampung"}  # 5 and 7: no v1 row, content unknown
    mapping, how = map_areas(used, names, ours, {7: 25410, 24515: 99999999}, index)
    assert mapping == {25410: 25427, 7: 25410}
    assert "unknown area 99999999" in how[24515] and "no name" in how[5]
