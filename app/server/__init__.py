"""Server plumbing of the app layer (ASGI middleware); the page code never imports it."""
