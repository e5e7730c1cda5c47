"""Staff pages of the send pipeline that are about no one model, served under
/admin/sends/ inside the admin (see apps.sends.admin_urls)."""
