"""Compliance reads: the recurring audit's checks (`checks`) and the consolidated audit
trail over every history table, the consent ledger and template approvals (`trail`)."""
