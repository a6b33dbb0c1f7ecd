"""Viewer: the PIN-gated record page and API, the issuer's JWKS."""
