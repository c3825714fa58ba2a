"""``omcore.config``: a read without a default answers the registry's default (the one place defaults are written);
required, empty, derived and unregistered settings still refuse to be guessed."""
import pytest

from omcore import config, settings


def by_name(name):
    return next(s for s in settings.SETTINGS if s.name == name)


def test_an_unset_setting_read_without_a_default_answers_the_registrys(monkeypatch):
    monkeypatch.delenv("CART_MAX_QUANTITY", raising=False)
    monkeypatch.delenv("MAIL_DELIVERY", raising=False)
    monkeypatch.delenv("REDIS_TLS", raising=False)
    assert config.get_int("CART_MAX_QUANTITY") == by_name("CART_MAX_QUANTITY").default
    assert config.get("MAIL_DELIVERY") == by_name("MAIL_DELIVERY").default
    assert config.get_bool("REDIS_TLS") is by_name("REDIS_TLS").default
    assert config.get("CART_MAX_QUANTITY") == str(by_name("CART_MAX_QUANTITY").default)


def test_a_set_value_and_an_explicit_default_still_win(monkeypatch):
    monkeypatch.setenv("CART_MAX_QUANTITY", "7")
    assert config.get_int("CART_MAX_QUANTITY") == 7
    monkeypatch.delenv("CART_MAX_QUANTITY")
    assert config.get_int("CART_MAX_QUANTITY", 5) == 5


@pytest.mark.parametrize("name", ["MIDTRANS_SERVER_KEY",  # required
                                  "FREIGHT_BASE_URL",  # empty default: a reader that needs it must be told
                                  "SMTP_SECURITY",  # derived default described in words
                                  "NOT_A_SETTING_AT_ALL"])
def test_what_the_registry_cannot_answer_is_still_refused(monkeypatch, name):
    monkeypatch.delenv(name, raising=False)
    with pytest.raises(config.ConfigError):
        config.get(name)
