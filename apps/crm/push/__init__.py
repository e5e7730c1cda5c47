"""Cue → CRM: what routing, sends and consent tell the crm app becomes outbox rows
(outbox.py), which a worker pushes to each connected CRM (push.py)."""
