"""The pages: the order desk for staff under /desk (staff host) and the customer's password reset under
/account/reset (storefront host). Both only read files; every change they make goes through the /api/v1 routes
of the other capabilities, from the browser, on the same origin. Each file has its own route (no path
parameters): API Gateway and the container answer anything else before it reaches a view."""
from omcore.http import Reply, Routes
from omcore.spec import Spec

from . import service

routes = Routes(__name__)


def _file(name: str) -> Reply:
    content, content_type = service.read(name)
    return Reply(raw=content.decode("utf-8"), content_type=content_type, headers=service.SECURITY_HEADERS, etag=True)


@routes.route("/desk", methods=["GET"], body=Spec(), query=Spec())
def desk(req):
    """The order desk (staff): orders, packing slips, sales and staff accounts in one page (text/html).

    200: the page
    """
    return _file(service.DESK_PAGE)


@routes.route("/account/reset", methods=["GET"], body=Spec(), query=Spec())
def reset(req):
    """The customer's password reset page (text/html): email, then the mailed code and a new password.

    200: the page
    """
    return _file(service.RESET_PAGE)


def _asset_route(prefix: str, name: str):
    def view(req):
        return _file(name)

    view.__name__ = f"{prefix.strip('/').replace('/', '_')}_{name.replace('.', '_')}"
    view.__qualname__ = view.__name__
    view.__doc__ = f"A file of the {prefix} page ({name}).\n\n200: the file\n"
    routes.route(f"{prefix}/{name}", methods=["GET"], body=Spec(), query=Spec())(view)


for _name in sorted(service.DESK_ASSETS):
    _asset_route("/desk", _name)
for _name in sorted(service.RESET_ASSETS):
    _asset_route("/account/reset", _name)
