"""Staff pages of the send pipeline that are about no one message, served inside the admin
by the message admin's get_urls (apps/sends/admin/messages.py), as every custom page is."""
