"""scim2-server (python-scim) as an ASGI app, for `uvicorn scim2_server_asgi:app`.

The package's own `scim2-server` command serves WSGI from a thread per request;
its ASGI application under uvicorn (uvloop + httptools) is its fastest setup, so
that is what scimd is compared with. The storage is the package's in-memory one
(no database at all), with the RFC 7643 schemas and no authentication: the bench
sends a bearer token that this server ignores.
"""

from scim2_models import ScimProvider

from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage
from scim2_server.service import ScimService
from scim2_server.utils import load_default_resource_types
from scim2_server.utils import load_default_schemas
from scim2_server.utils import load_default_service_provider_config

provider = ScimProvider.from_discovery(
    load_default_schemas().values(),
    load_default_resource_types().values(),
    config=load_default_service_provider_config(),
)
app = ASGIApplication(
    AsyncInMemoryStorage(),
    provider,
    service=ScimService(provider, secret="scimd-bench-cursor-secret"),
)
