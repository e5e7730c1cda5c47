"""Data-subject requests: exporting everything Cue holds about a person, and erasing it.

Most rows about a person live in the apps above contacts, so each app registers an
`ErasurePart` (`registry.erasure_part_register`) from its `AppConfig.ready()`: what it
holds about a contact (export and count) and how it anonymises that in place (erase).
`services` runs them: an export is one read, an erasure one transaction under the
contact's lock. `traces` knows the person's identifiers and the keyed hash that stands in
for an erased address where the law needs the row kept (the consent ledger, suppressions).
"""
