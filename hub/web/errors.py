"""One error shape for the whole API: `{"error": {"code", "message"}}` with a 4xx status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from hub.engine import DomainError
from hub.i18n import N_, default_texts

log = logging.getLogger(__name__)

STATUS = {
    "conflict": 409,
    "not_found": 404,
    "invalid": 422,
    "forbidden": 403,
    "unauthorized": 401,
    "rate_limited": 429,
}


# Werkzeug's errors, said with their status's text (`{name}`: Werkzeug's English name of it).
_HTTP = {
    400: N_("http.bad_request", "name"),
    404: N_("http.not_found", "name"),
    405: N_("http.method_not_allowed", "name"),
    413: N_("http.too_large", "name"),
    415: N_("http.unsupported_media_type", "name"),
}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def domain_error_response(err: DomainError):
    response = jsonify(error_body(err.code, err.message))
    response.status_code = STATUS.get(err.kind, 409)
    retry = getattr(err, "retry_after_s", None)
    if retry is not None:
        response.headers["Retry-After"] = str(int(retry) + 1)
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="onestop"'
    return response


def install(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        key = _HTTP.get(err.code or 0, N_("http.other", "name"))
        response = jsonify(error_body(err.name.lower().replace(" ", "_"),
                                      default_texts().joined(key, name=err.name)))
        response.status_code = err.code or 500
        for name, value in err.get_headers():  # e.g. a 405's Allow (RFC 9110 §15.5.6)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("unhandled error")
        response = jsonify(error_body("internal", default_texts().joined("error.internal")))
        response.status_code = 500
        return response
