"""The links between CRM companies and deals and the Cue rows they became (RecordLink)."""

from apps.crm.adapters import CrmRecord
from apps.crm.models import RecordLink


def links_touch(links: dict[str, RecordLink], records: list[CrmRecord]) -> None:
    """Notes the CRM's modification time last taken, and that each link is live again, in
    one statement for the page; links already so are not written."""
    stale = []
    for record in records:
        link = links[record.id]
        if (link.modified_at, link.archived) != (record.modified_at, False):
            link.modified_at, link.archived = record.modified_at, False
            stale.append(link)
    RecordLink.objects.bulk_update(stale, ["modified_at", "archived"])
