"""Real servers for tests and the demo: Debian's `docker-registry` on a free loopback
port, and our own loopback proxy that pages tag lists like ghcr.io."""
