"""Two-factor sign-in (TOTP through django-otp, with recovery codes).

Any user may turn it on; the roles in OTP_REQUIRED_GROUPS (Admin and Compliance by default)
must set it up before they reach anything else, and everyone who has it must enter a code
after their password. Enforced by one middleware (middleware.py), so that every page, the
admin, /tasks/, the inbox and the session-signed API alike, is covered."""
