"""oaschema.py — every answer the API tests receive, checked against openapi.json.

The routes' tests (test_routes.py, test_compat.py) talk to the server through
oaschema.Server, an lsapi.Server whose every response is checked against
src/http/openapi.json: the path must be documented (else it is a documented
404), the method listed (else a documented 405), the status listed for that
operation, the content type listed for that status, and a JSON body valid
against the schema (JSON Schema 2020-12, python3-jsonschema). A response the
document does not describe raises AssertionError in the test that received
it. test_openapi.py runs both suites again and also checks which documented
responses were seen.
"""

import json
import os
import re

import lsapi

try:
    import jsonschema
    import referencing
    import referencing.jsonschema
except ImportError:  # pragma: no cover - the install script provides it
    jsonschema = None

DOC_PATH = os.path.join(lsapi.SOURCE_DIR, "src", "http", "openapi.json")
DOC_URI = "urn:leadscore:openapi"

_doc = None
_registry = None
_validators = {}
# (METHOD, path template, status) of every response checked, for coverage
SEEN = set()


def doc():
    global _doc, _registry
    if _doc is None:
        with open(DOC_PATH, encoding="utf-8") as f:
            _doc = json.load(f)
        res = referencing.Resource.from_contents(
            _doc, default_specification=referencing.jsonschema.DRAFT202012)
        _registry = referencing.Registry().with_resource(DOC_URI, res)
    return _doc


def _pattern(template):
    out = re.escape(template)
    out = re.sub(r"\\\{[a-z_]+\\\}", "[1-9][0-9]*", out)
    return re.compile("^" + out + "$")


def match_path(path):
    """The documented path template that path (without query) matches, or None."""
    paths = doc()["paths"]
    if path in paths:
        return path
    for t in paths:
        if "{" in t and _pattern(t).match(path):
            return t
    return None


def validator(pointer):
    """A Draft 2020-12 validator for the schema at pointer inside the document."""
    doc()
    v = _validators.get(pointer)
    if v is None:
        v = jsonschema.Draft202012Validator({"$ref": DOC_URI + "#" + pointer},
                                            registry=_registry,
                                            format_checker=jsonschema.FormatChecker())
        _validators[pointer] = v
    return v


def _deref(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        cur = doc()
        for part in obj["$ref"].lstrip("#/").split("/"):
            cur = cur[part]
        obj = cur
    return obj


def _schema_pointer(resp_pointer, resp, media):
    return "%s/content/%s/schema" % (resp_pointer, media.replace("/", "~1"))


def check(method, path, r):
    """Raise AssertionError unless response r to METHOD path is documented."""
    if jsonschema is None:
        raise AssertionError("python3-jsonschema is needed to check responses")
    method = method.upper()
    path = path.split("?", 1)[0]
    if method == "OPTIONS":
        return  # CORS preflights are the server core's (described in info)
    d = doc()
    template = match_path(path)
    if template is None:
        # an unknown path: only the documented not-found answer
        resp_pointer = "/components/responses/NotFound"
        if r.status != 404:
            raise AssertionError("%s %s: undocumented path answered %d" % (method, path, r.status))
        key = (method, "(unknown)", 404)
    else:
        item = d["paths"][template]
        op = item.get(method.lower())
        if op is None:
            if r.status != 405:
                raise AssertionError("%s %s: method not documented, answered %d (want 405)" %
                                     (method, path, r.status))
            resp_pointer = "/components/responses/MethodNotAllowed"
        else:
            code = str(r.status)
            if code not in op["responses"]:
                raise AssertionError("%s %s: status %s not documented (documented: %s): %r" %
                                     (method, template, code, sorted(op["responses"]), r))
            resp_pointer = "/paths/%s/%s/responses/%s" % (
                template.replace("~", "~0").replace("/", "~1"), method.lower(), code)
        key = (method, template, r.status)
    resp = _deref(_pointer(resp_pointer))
    content = resp.get("content")
    if not content:
        if r.body:
            raise AssertionError("%s %s %d: documented without a body, got %r" %
                                 (method, path, r.status, r.body[:200]))
        SEEN.add(key)
        return
    ctype = (r.header("content-type") or "").split(";")[0].strip().lower()
    if ctype not in content:
        raise AssertionError("%s %s %d: content type %r not documented (%s)" %
                             (method, path, r.status, ctype, sorted(content)))
    if ctype == "application/json":
        try:
            body = r.json()
        except ValueError as e:
            raise AssertionError("%s %s %d: not JSON (%s): %r" % (method, path, r.status, e, r))
        v = validator(_schema_pointer(resp_pointer, resp, ctype) if "$ref" not in
                      _pointer(resp_pointer) else _schema_pointer(
                          _pointer(resp_pointer)["$ref"].lstrip("#"), resp, ctype))
        errors = sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            raise AssertionError("%s %s %d: body does not match openapi.json at %s: %s (%d errors)"
                                 % (method, path, r.status, "/".join(map(str, e.absolute_path)),
                                    e.message[:400], len(errors)))
    SEEN.add(key)


def _pointer(p):
    cur = doc()
    for part in p.lstrip("/").split("/"):
        cur = cur[part.replace("~1", "/").replace("~0", "~")]
    return cur


class Server(lsapi.Server):
    """lsapi.Server whose every answer is checked against openapi.json."""

    def request(self, method, path, *a, **kw):
        r = super().request(method, path, *a, **kw)
        check(method, path, r)
        return r
