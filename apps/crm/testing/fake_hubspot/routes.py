"""The endpoints of HubSpot's API that Cue uses, answered from the fake's store.

Called by FakeHubSpot under its lock, after authentication and scripted faults.
"""

import re
from typing import TYPE_CHECKING

from .http import ApiRequest, Reply, error_reply
from .read_endpoints import (
    association_batch_read,
    object_batch_read,
    object_list,
    object_read,
    object_search,
    owner_list,
    pipeline_list,
    property_list,
)
from .write_endpoints import object_batch_create, object_create, object_update

if TYPE_CHECKING:
    from .fake import FakeHubSpot

OBJECTS = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/?$")
OBJECT = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/(?P<id>[^/]+)$")
SEARCH = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/search$")
BATCH_CREATE = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/create$")
BATCH_READ = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/read$")
OWNERS = re.compile(r"^/crm/v3/owners/?$")
PIPELINES = re.compile(r"^/crm/v3/pipelines/(?P<type>[^/]+)/?$")
PROPERTIES = re.compile(r"^/crm/v3/properties/(?P<type>[^/]+)/?$")
ASSOCIATIONS_READ = re.compile(r"^/crm/v4/associations/(?P<from>[^/]+)/(?P<to>[^/]+)/batch/read$")


def route(fake: "FakeHubSpot", request: ApiRequest) -> Reply:
    if request.body is ValueError:
        return error_reply(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
    method, path = request.method, request.path
    handlers = (
        ("POST", SEARCH, object_search),
        ("POST", BATCH_CREATE, object_batch_create),
        ("POST", BATCH_READ, object_batch_read),
        ("GET", OWNERS, owner_list),
        ("GET", PIPELINES, pipeline_list),
        ("GET", PROPERTIES, property_list),
        ("POST", ASSOCIATIONS_READ, association_batch_read),
        ("GET", OBJECTS, object_list),
        ("POST", OBJECTS, object_create),
        ("GET", OBJECT, object_read),
        ("PATCH", OBJECT, object_update),
    )
    for handler_method, pattern, handler in handlers:
        match = pattern.match(path)
        if match and method == handler_method:
            return handler(fake, request, **match.groupdict())
    return error_reply(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")
