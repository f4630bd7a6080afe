"""schemathesis hooks for scripts/fuzz.sh: the media types the API takes and serves besides
JSON (uploads of documents as PDF or raw bytes, downloads of documents, envelopes and the
award report). Requests carry the generated value as bytes; responses are checked as opaque
bytes (their schema is a binary string), so only their status and headers are validated."""

import schemathesis
from schemathesis.transport.serialization import serialize_binary


@schemathesis.serializer("application/pdf")
def binary_body(ctx, value):
    return {"data": serialize_binary(value)}


@schemathesis.deserializer("application/pdf", "application/octet-stream")
def opaque_bytes(ctx, response):
    return response.content.decode("latin-1")
