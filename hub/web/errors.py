"""One error shape for the whole API: `{"error": {"code", "message"}}` with a 4xx status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from hub.engine import DomainError

log = logging.getLogger(__name__)

STATUS = {
    "conflict": 409,
    "not_found": 404,
    "invalid": 422,
    "forbidden": 403,
    "unauthorized": 401,
    "rate_limited": 429,
}


_HTTP_ZH = {
    400: "请求格式错误",
    404: "无此地址",
    405: "不支持该请求方法",
    413: "请求体过大",
    415: "不支持的内容类型",
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
        zh = _HTTP_ZH.get(err.code or 0, "请求错误")
        response = jsonify(error_body(err.name.lower().replace(" ", "_"), f"{zh} / {err.name}"))
        response.status_code = err.code or 500
        for name, value in err.get_headers():  # e.g. a 405's Allow (RFC 9110 §15.5.6)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("unhandled error")
        response = jsonify(error_body("internal", "内部错误 / internal error"))
        response.status_code = 500
        return response
