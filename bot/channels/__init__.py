"""The chat platforms: each turns its platform's updates into Incoming and sends Replies back; the
outbox sender delivers queued messages through their transports."""
