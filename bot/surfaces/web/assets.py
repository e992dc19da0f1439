"""The pages' static files under `/static/`, and the security headers of every page and file.

The chat and dashboard pages load their scripts, styles, icon and the vendored libraries
(`static/vendor/`, see `scripts/update_vendor.py`) from here, never inline and never from
another site. That is what lets their Content Security Policy forbid everything else: text the
model writes cannot become a script even if it got past the Markdown sanitiser, and no other
site may frame the pages.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGES = frozenset({"/chat", "/dashboard"})


def add_routes(app: web.Application) -> None:
    """Serve `static/` under `/static/` and put the security headers on pages and files."""
    app.router.add_static("/static", STATIC, follow_symlinks=False)
    app.on_response_prepare.append(_secure)


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    path = request.path
    if path in PAGES or path.startswith("/static/"):
        response.headers.update(SECURITY_HEADERS)
    if path.startswith("/static/"):
        # Revalidate each time (a cheap 304 by ETag), so a new release's scripts are used at once.
        response.headers["Cache-Control"] = "no-cache"
