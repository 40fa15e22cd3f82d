"""The intake API's OpenAPI 3.1 description, written by hand and served at ``/openapi.json``.

A test walks the application's routes and checks each one is described here,
and schemathesis exercises the API from this document.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from .portfolio_routes import portfolio_paths

_SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
        }
    },
}
_RECEIPT = {
    "type": "object",
    "required": ["receipt", "signature"],
    "additionalProperties": False,
    "properties": {
        "receipt": {
            "type": "object",
            "required": [
                "format",
                "upload_id",
                "organization",
                "submitter_token_id",
                "received_at",
                "archive_sha256",
                "size",
                "verdict",
                "reasons",
                "log_seq",
                "log_entry_sha256",
                "server_key_id",
            ],
            "additionalProperties": False,
            "properties": {
                "format": {"enum": ["auditkit-intake-receipt/1", "auditkit-intake-receipt/2"]},
                "upload_id": {"type": "string"},
                "organization": {"type": "string"},
                "submitter_token_id": {"type": "string"},
                "received_at": {"type": "string"},
                "archive_sha256": _SHA,
                "archive_name": {"type": ["string", "null"], "maxLength": 255},
                "size": {"type": "integer", "minimum": 0},
                "verdict": {"enum": ["accepted", "rejected"]},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "bundle_root_hash": {"oneOf": [_SHA, {"type": "null"}]},
                "bundle_id": {"type": ["string", "null"]},
                "bundle_organization": {"type": ["string", "null"]},
                "item_count": {"type": ["integer", "null"]},
                "log_seq": {"type": "integer", "minimum": 1},
                "log_entry_sha256": _SHA,
                "server_key_id": {"type": "string"},
            },
        },
        "signature": {
            "type": "object",
            "required": ["algorithm", "key_id", "value"],
            "properties": {
                "algorithm": {"const": "Ed25519"},
                "key_id": {"type": "string"},
                "value": {"type": "string", "contentEncoding": "base64"},
            },
        },
    },
}
_BUNDLE = {
    "type": "object",
    "required": ["upload_id", "organization", "received_at", "archive_sha256", "size", "verdict"],
    "properties": {
        "upload_id": {"type": "string"},
        "organization": {"type": "string"},
        "received_at": {"type": "string"},
        "archive_sha256": _SHA,
        "size": {"type": "integer"},
        "verdict": {"enum": ["accepted", "rejected"]},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "bundle_root_hash": {"oneOf": [_SHA, {"type": "null"}]},
        "bundle_id": {"type": ["string", "null"]},
        "archive_format": {"type": "string"},
    },
}
_HTML = {"text/html": {"schema": {"type": "string"}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request.",
        401: "Missing, unknown or revoked token.",
        403: "The token's role may not do this.",
        404: "No such bundle visible to this token (other tenants' bundles look the same).",
        408: "The client sent no data within the idle timeout.",
        413: "The body passed the server's size cap; the rest was not read.",
        503: "The server cannot do this now (retry later).",
    }
    return {
        str(s): {"description": text[s], "content": _json({"$ref": "#/components/schemas/Error"})}
        for s in statuses
    }


_REF_PARAM = {
    "name": "ref",
    "in": "path",
    "required": True,
    "description": "A bundle root hash (64 hex digits) or an upload id (up_...).",
    "schema": {"type": "string"},
}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the intake server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "auditkit evidence intake",
            "version": __version__,
            "description": "Compliance teams upload evidence bundles; auditors collect them.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "SignedReceipt": _RECEIPT,
                "Bundle": _BUNDLE,
            },
        },
        "paths": {
            **portfolio_paths(_json, _errors, _HTML, _SECURED),
            "/": {
                "get": {
                    "summary": "The upload page",
                    "responses": {"200": {"description": "HTML form", "content": _HTML}},
                }
            },
            "/upload": {
                "post": {
                    "summary": "Upload from the page (form with token, then bundle file)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["token", "bundle"],
                                    "properties": {
                                        "token": {"type": "string"},
                                        "bundle": {"type": "string", "format": "binary"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        str(s): {"description": d, "content": _HTML}
                        for s, d in (
                            (200, "Verdict page (accepted or duplicate)"),
                            (201, "Verdict page (accepted)"),
                            (400, "Malformed form"),
                            (401, "Bad token"),
                            (403, "Role may not upload"),
                            (408, "No data within the idle timeout"),
                            (413, "Over the size cap"),
                            (422, "Verdict page (rejected)"),
                            (503, "Verifier unavailable"),
                        )
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": _json(
                                {"type": "object", "properties": {"status": {"const": "ok"}}}
                            ),
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": _json({})}},
                }
            },
            "/api/v1/info": {
                "get": {
                    "summary": "Server facts a client needs before uploading",
                    "responses": {
                        "200": {
                            "description": "version, upload cap, receipt key",
                            "content": _json(
                                {
                                    "type": "object",
                                    "required": ["version", "max_upload_bytes", "server_key_id"],
                                    "properties": {
                                        "version": {"type": "string"},
                                        "max_upload_bytes": {"type": "integer"},
                                        "server_key_id": {"type": "string"},
                                        "server_public_key_pem": {"type": "string"},
                                    },
                                }
                            ),
                        }
                    },
                }
            },
            "/api/v1/bundles": {
                "post": {
                    "summary": "Upload a bundle archive (.zip or .tar.gz) as the raw body",
                    "security": _SECURED,
                    "parameters": [
                        {
                            "name": "X-Archive-Name",
                            "in": "header",
                            "required": False,
                            "description": "The archive's file name, percent-encoded UTF-8; the receipt records it",
                            "schema": {"type": "string", "maxLength": 1024},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Accepted; signed receipt",
                            "content": _json({"$ref": "#/components/schemas/SignedReceipt"}),
                        },
                        "200": {
                            "description": "Same root hash already accepted; the earlier receipt",
                            "content": _json({"$ref": "#/components/schemas/SignedReceipt"}),
                        },
                        "422": {
                            "description": "Rejected by the verifier; signed receipt with reasons",
                            "content": _json({"$ref": "#/components/schemas/SignedReceipt"}),
                        },
                        **_errors(400, 401, 403, 408, 413, 503),
                    },
                },
                "get": {
                    "summary": "Uploads of the organizations this token may read, newest first",
                    "security": _SECURED,
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "Bundles",
                            "content": _json(
                                {
                                    "type": "object",
                                    "required": ["bundles"],
                                    "properties": {
                                        "bundles": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Bundle"},
                                        }
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401),
                    },
                },
            },
            "/api/v1/bundles/{ref}": {
                "get": {
                    "summary": "One upload and its signed receipt",
                    "security": _SECURED,
                    "parameters": [_REF_PARAM],
                    "responses": {
                        "200": {
                            "description": "The upload",
                            "content": _json(
                                {
                                    "allOf": [{"$ref": "#/components/schemas/Bundle"}],
                                    "properties": {
                                        "receipt": {"$ref": "#/components/schemas/SignedReceipt"}
                                    },
                                }
                            ),
                        },
                        **_errors(401, 404),
                    },
                }
            },
            "/api/v1/bundles/{ref}/archive": {
                "get": {
                    "summary": "Download an accepted bundle's archive",
                    "security": _SECURED,
                    "parameters": [_REF_PARAM],
                    "responses": {
                        "200": {
                            "description": "The archive; X-Archive-SHA256 gives its digest",
                            "content": {
                                "application/octet-stream": {
                                    "schema": {"type": "string", "format": "binary"}
                                }
                            },
                        },
                        **_errors(401, 404, 503),
                    },
                }
            },
        },
    }
