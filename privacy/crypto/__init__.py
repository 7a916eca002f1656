"""Keys and encryption: key providers, envelope field encryption, keyed pseudonyms, the protect stage.

Typical use from the pipeline::

    from clearhouse.privacy.crypto import create_provider, protect_table

    provider = create_provider("local", keys_dir=settings.keys_dir)
    protected, result = protect_table(table, policy, provider, dataset=policy.id, version=version)

Modules: ``provider`` (interface + registry), ``local_keyring`` (the ``local`` provider),
``keyring_file`` (locked atomic file), ``root_key`` (master key sources), ``wrapping`` (key wrap),
``keys`` (key handles and metadata), ``tokens`` (ciphertext format), ``codec`` (plaintext encoding),
``envelope`` (field ciphers), ``pseudonym`` (HMAC pseudonyms), ``protect`` (table stage).
"""

from __future__ import annotations

from clearhouse.privacy.crypto.envelope import ColumnCipher, GcmColumnCipher, SivColumnCipher, column_cipher
from clearhouse.privacy.crypto.keys import (
    DataKey,
    DataKeyInfo,
    KekInfo,
    KeyringStatus,
    PurposeKey,
    PurposeKeyInfo,
    RotationResult,
    ShredResult,
)
from clearhouse.privacy.crypto.local_keyring import LocalKeyringProvider
from clearhouse.privacy.crypto.protect import (
    ColumnProtection,
    ProtectResult,
    decrypt_column,
    decrypt_table,
    protect_table,
)
from clearhouse.privacy.crypto.provider import KeyProvider, available_providers, create_provider, register_provider
from clearhouse.privacy.crypto.pseudonym import Pseudonymiser
from clearhouse.privacy.crypto.root_key import ENV_MASTER_KEY, ENV_PASSPHRASE, create_dev_master_key

__all__ = [
    "ENV_MASTER_KEY",
    "ENV_PASSPHRASE",
    "ColumnCipher",
    "ColumnProtection",
    "DataKey",
    "DataKeyInfo",
    "GcmColumnCipher",
    "KekInfo",
    "KeyProvider",
    "KeyringStatus",
    "LocalKeyringProvider",
    "ProtectResult",
    "Pseudonymiser",
    "PurposeKey",
    "PurposeKeyInfo",
    "RotationResult",
    "ShredResult",
    "SivColumnCipher",
    "available_providers",
    "column_cipher",
    "create_dev_master_key",
    "create_provider",
    "decrypt_column",
    "decrypt_table",
    "protect_table",
    "register_provider",
]
