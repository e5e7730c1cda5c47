"""gunicorn's access log without personal data: every value a request line can carry (the
path and query, the referrer, the user agent, headers) is masked like every other log line
(apps/core/logs.py), after percent-decoding, so `%2B1415…` and `jane%40example.com` are
caught too. gunicorn.conf.py names this class as its logger_class."""

from urllib.parse import unquote

from gunicorn.glogging import Logger

from apps.core.logs import personal_data_mask


def access_value_mask(value):
    """A masked copy of one access-log value; numbers (status, sizes, times) pass as they are."""
    if not isinstance(value, str):
        return value
    return personal_data_mask(unquote(value))


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: access_value_mask(value) for name, value in atoms.items()}
