"""Writes of the reporting app. Import the functions from their modules:

- `attribution`: rebuild the attribution of a range; refresh what changed since last time.
- `rollups`: rebuild daily rollups of a range; the incremental refresh the beat runs.
- `fatigue`: the fatigue guard.
- `audits`: the recurring compliance audit.
- `retention`: pruning message bodies and click IPs.
"""
