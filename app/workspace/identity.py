"""Which workspace this browser session belongs to: an anonymous id kept in a cookie.

CONTRACT (being written now): :func:`workspace_id` returns this browser's workspace id. It reads
the ``convlab_workspace`` cookie (``st.context.cookies``, public API); where there is none it makes
a new id (``secrets.token_urlsafe``), keeps it in the session and writes the cookie from the page
(a zero-height component script: ``SameSite=Lax``, ``Path=/``, a year), so a reload, a pasted link,
a second tab and a server restart all find the same workspace. The id is never put in a URL.
:func:`store` and :func:`classroom` are the server's shared instances (``st.cache_resource``).
"""

from __future__ import annotations
