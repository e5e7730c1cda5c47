"""Twilio webhooks: authentic (signature checked against the public URL), idempotent and fast."""
