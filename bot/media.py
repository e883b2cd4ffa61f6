"""Pictures the bot sends on WhatsApp (trend charts): Twilio fetches them from a URL of the bot.

The URL carries a keyed token, so only someone who was sent the link can fetch the picture.
"""

from __future__ import annotations

import hashlib
import hmac

from config.settings import Settings
from storage.models import OutboxMessage


def media_token(settings: Settings, outbox_id: int) -> str:
    key = settings.pseudonym_key.get_secret_value().encode()
    return hmac.new(key, f"media:{outbox_id}".encode(), hashlib.sha256).hexdigest()[:32]


def media_url(settings: Settings, message: OutboxMessage) -> str | None:
    """Where Twilio can fetch the message's picture; None without a public URL."""
    if settings.public_url is None or message.image is None:
        return None
    return f"{settings.public_url}/media/{message.id}/{media_token(settings, message.id)}.png"
