"""Test support, shared by the test suite, the demo and the benchmark scripts (not part of
the mcpkg package, not shipped in its wheel): real servers (Debian's `docker-registry`
on a free loopback port, a token service, a misbehaving proxy, a test CA), builders of
components from WIT, component-binary helpers, the chaos and load drivers, and running
mcpkg as a user who is not root.

May import: mcpkg and third-party test tools; never `tests`."""
