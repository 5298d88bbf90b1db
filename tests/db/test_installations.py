"""OAuth mode's stores: slack_sdk's tables as the migrations make them, tokens encrypted, the key rotated."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, select

from bot.app import build_app
from bot.errors import ConfigError
from bot.installs.crypto import TokenKeyError
from bot.installs.oauth import installation_store
from bot.installs.store import state_store
from bot.settings import Settings
from models import slack_bots, slack_installations, slack_oauth_states

KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def oauth_settings(key: str | None = KEY, old: str | None = None) -> Settings:
    return Settings(_env_file=None, slack_client_id="1.2", slack_client_secret=SecretStr("s"),  # type: ignore[call-arg]
                    token_encryption_key=SecretStr(key) if key else None,
                    token_encryption_old_keys=SecretStr(old) if old else None, slack_signing_secret=SecretStr("x"))


def test_the_tables_hold_every_column_the_library_reads_and_writes():
    library = MetaData()
    for ours, theirs in (
        (slack_installations, SQLAlchemyInstallationStore.build_installations_table(library, "slack_installations")),
        (slack_bots, SQLAlchemyInstallationStore.build_bots_table(library, "slack_bots")),
        (slack_oauth_states, SQLAlchemyOAuthStateStore.build_oauth_states_table(library, "slack_oauth_states")),
    ):
        assert set(ours.c.keys()) == set(theirs.c.keys()), ours.name
        for column in theirs.c:
            assert ours.c[column.name].nullable == column.nullable, (ours.name, column.name)


def test_tokens_are_ciphertext_at_rest_and_the_key_can_be_rotated(engine):
    store = installation_store(oauth_settings(), engine)
    store.save(Installation(app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-secret-1", bot_id="B1",
                            bot_user_id="U0B", bot_refresh_token="xoxe-1-refresh", bot_token_expires_in=43200))
    with engine.connect() as conn:
        raw = conn.execute(select(slack_bots.c.bot_token, slack_bots.c.bot_refresh_token)).one()
    assert all(v.startswith("gAAAA") and "xox" not in v for v in raw)
    assert store.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-secret-1"

    rotated = installation_store(oauth_settings(NEW_KEY, old=KEY), engine)
    assert rotated.find_bot(enterprise_id=None, team_id="T1").bot_token == "xoxb-secret-1"  # the old key reads
    assert rotated.rekey() == 4  # bot and refresh token, in both tables
    only_new = installation_store(oauth_settings(NEW_KEY), engine)
    assert only_new.find_bot(enterprise_id=None, team_id="T1").bot_refresh_token == "xoxe-1-refresh"
    with pytest.raises(TokenKeyError, match="TOKEN_ENCRYPTION_OLD_KEYS"):
        installation_store(oauth_settings(KEY), engine).find_bot(enterprise_id=None, team_id="T1")


def test_oauth_state_is_single_use(engine):
    states = state_store(engine)
    state = states.issue()
    assert states.consume(state) and not states.consume(state)


def test_oauth_mode_refuses_to_start_without_a_key_and_refuses_bad_keys(engine):
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEY"):
        build_app(oauth_settings(key=None), engine=engine)
    with pytest.raises(ValidationError, match="32 bytes"):
        oauth_settings(key="not-a-key")
    with pytest.raises(ConfigError, match="both"):
        build_app(Settings(_env_file=None, slack_client_id="1.2", slack_signing_secret=SecretStr("x")),  # type: ignore[call-arg]
                  engine=engine)
