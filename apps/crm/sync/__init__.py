"""CRM → Cue: the sync engine (engine.py) and what each object type's records become
(owners.py, companies.py, people.py, deals.py, tasks.py)."""
