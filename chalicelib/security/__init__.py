"""Security primitives, pure and free of I/O.

``acs_signature``: Alibaba Cloud OpenAPI request signatures (ACS3-HMAC-SHA256 and RPC HMAC-SHA1 v1.0),
verified for the official mPaaS SDKs and produced for our own ``mds`` CLI.
"""
