"""slack_sdk's SQLAlchemy installation and OAuth state stores, on the bot's engine, with tokens encrypted.

``SQLAlchemyInstallationStore`` writes tokens as given and has no hook for encryption, so this subclass
swaps the type of the token columns of the store's own ``Table`` objects for ``EncryptedToken``: every
query the library runs (save, find, delete, rotation) then encrypts on the way in and decrypts on the way
out, and nothing else of the library changes. The tables themselves are created by Alembic
(``models/installation.py``), never by ``create_tables()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptography.fernet import MultiFernet
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, Table, select, update

from bot.installs.crypto import EncryptedToken
from models.installation import INSTALLATION_TABLES, TOKEN_COLUMNS

STATE_SECONDS = 10 * 60  # how long an "Add to Slack" click may take to come back


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    def __init__(self, client_id: str, engine: Engine, cipher: MultiFernet, **kwargs: Any) -> None:
        super().__init__(client_id=client_id, engine=engine, **kwargs)
        self.cipher = cipher
        for table in self._tables():
            for name in TOKEN_COLUMNS:
                if name in table.c:
                    table.c[name].type = EncryptedToken(cipher)

    def create_tables(self) -> None:  # the migrations own the schema
        raise RuntimeError("the installation tables are created by `readiness db upgrade`, not by the store")

    def _tables(self) -> Iterator[Table]:
        yield self.installations
        yield self.bots

    def teams(self) -> list[str]:
        """Workspaces with a bot token stored (this app's installations)."""
        c = self.bots.c
        query = select(c.team_id).where(c.client_id == self.client_id, c.bot_token.is_not(None)).distinct()
        with self.engine.connect() as conn:
            return sorted(str(t) for t in conn.execute(query).scalars() if t)

    def enterprise_of(self, team_id: str) -> str | None:
        """The Enterprise Grid organisation of the workspace's latest installation (None outside Grid)."""
        c = self.bots.c
        query = (select(c.enterprise_id).where(c.client_id == self.client_id, c.team_id == team_id)
                 .order_by(c.installed_at.desc()).limit(1))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def rekey(self) -> int:
        """Re-encrypt every stored token with the current key (the first one); returns how many were.

        Reads the ciphertext through the plain tables of ``models.installation``, not the store's own."""
        done = 0
        with self.engine.begin() as conn:
            for table in INSTALLATION_TABLES:
                names = [n for n in TOKEN_COLUMNS if n in table.c]
                for row in conn.execute(select(table.c.id, *(table.c[n] for n in names))).mappings().all():
                    values = {n: self.cipher.rotate(row[n].encode("ascii")).decode("ascii")
                              for n in names if row[n] is not None}
                    if values:
                        conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
                        done += len(values)
        return done


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
