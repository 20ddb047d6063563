"""Pairwise subject identifiers: the id a mini-program sees for a customer.

As in OpenID Connect Core section 8.1, each partner gets its own identifier
for the same customer, so two partners comparing their user lists cannot
join them, and none can recover the bank's customer id. The id is an HMAC
of the customer under a server secret: stable without storing a mapping, so
every BFF instance computes the same one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from bff.miniprograms.encoding import length_prefixed

PREFIX = "pw_"
MIN_SECRET_BYTES = 32
# Separates these HMACs from any other use of the same secret.
_CONTEXT = "bankapp/miniprogram-pairwise-subject/v1"
# 160 bits: collisions are out of reach for any population, and the base32
# text is exactly 32 characters without padding.
_ID_BYTES = 20


def pairwise_subject(secret: bytes, customer_id: str, member_bank: str, partner_id: str) -> str:
    """The stable, partner-specific id of a customer of a member bank, e.g. "pw_k3...".

    The fields are length-prefixed before hashing so that no two different
    triples encode alike: with a plain separator, member bank "a|b" and
    customer "c" would hash like member bank "a" and customer "b|c".
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the pairwise secret needs at least {MIN_SECRET_BYTES} random bytes")
    if not (customer_id and member_bank and partner_id):
        raise ValueError("a pairwise subject needs a customer id, a member bank and a partner id")
    message = length_prefixed(_CONTEXT, member_bank, customer_id, partner_id)
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:_ID_BYTES]
    # Lowercase base32: survives systems that fold case in identifiers.
    return PREFIX + base64.b32encode(digest).decode("ascii").lower()
