"""test_openapi.py — openapi.json describes every route, and every answer matches it.

Checks the document itself (OpenAPI 3.1, every schema valid JSON Schema 2020-12,
every $ref resolves, every route of src/http/routes.c documented with its
methods and nothing documented that the server does not serve, 401 and 500
on every protected operation, path parameters declared), then runs the
routes' suites (test_routes.py, test_compat.py, test_chat_routes.py) with every response they
receive validated against it (oaschema.Server), and checks that each
documented operation answered at least one of its success statuses.
"""

import json
import os
import re
import sys
import unittest

import lsapi
import oaschema

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
ROUTES_C = os.path.join(lsapi.SOURCE_DIR, "src", "http", "routes.c")
# served by the server itself, outside the route table (GET / is compat_root or the web app)
SERVER_PATHS = {("GET", "/")}


def route_table():
    """(METHOD, pattern) of every entry of http_routes[]."""
    with open(ROUTES_C, encoding="utf-8") as f:
        text = f.read()
    out = set()
    for methods, pattern in re.findall(r"\{\s*((?:HTTP_[A-Z]+\s*\|?\s*)+),\s*\"([^\"]+)\"", text):
        for m in re.findall(r"HTTP_([A-Z]+)", methods):
            out.add((m, pattern))
    return out


def documented():
    out = set()
    for path, item in oaschema.doc()["paths"].items():
        for m in ("get", "post", "put", "patch", "delete", "head", "options"):
            if m in item:
                out.add((m.upper(), path))
    return out


class Document(lsapi.TestCase):
    def test_version_and_schemas(self):
        d = oaschema.doc()
        self.assertTrue(d["openapi"].startswith("3.1."), d["openapi"])
        for name, s in d["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(s)
        # every $ref resolves
        refs = re.findall(r'"\$ref": "#([^"]+)"', json.dumps(d))
        self.assertGreater(len(refs), 20)
        for ref in set(refs):
            oaschema._pointer(ref)

    def test_every_route_documented(self):
        table = route_table()
        self.assertGreaterEqual(len(table), 20, table)
        doc = documented()
        self.assertEqual(sorted(table - doc), [], "routes without an operation in openapi.json")
        self.assertEqual(sorted(doc - table - SERVER_PATHS), [],
                         "operations the route table does not serve")

    def test_every_operation_complete(self):
        for path, item in oaschema.doc()["paths"].items():
            params = set(re.findall(r"\{([a-z_]+)\}", path))
            for m, op in item.items():
                where = "%s %s" % (m.upper(), path)
                codes = set(op["responses"])
                self.assertIn("500", codes, where)
                if op.get("security") != []:
                    self.assertIn("401", codes, where)
                self.assertTrue(any(c.startswith("2") for c in codes), where)
                declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
                self.assertEqual(declared, params, where)
                for code, resp in op["responses"].items():
                    self.assertIn("description", resp, (where, code))
                    if code[0] in "45":
                        schema = resp["content"]["application/json"]["schema"]["$ref"]
                        want = "CompatError" if not path.startswith("/api/") else "Error"
                        self.assertTrue(schema.endswith("/" + want), (where, code, schema))

    def test_undocumented_answers_fail(self):
        """The checker itself: an answer the document does not describe is an error."""
        R = lsapi.Response
        ok = R(200, "OK", {"content-type": "application/json"},
               b'{"history": []}')
        oaschema.check("GET", "/prediction-history", ok)
        bad = [
            ("GET", "/prediction-history", R(200, "OK", {"content-type": "application/json"},
                                              b'{"history": [{"run_id": 1}]}')),
            ("GET", "/prediction-history", R(201, "Created", {"content-type": "application/json"},
                                              b'{"history": []}')),
            ("GET", "/prediction-history", R(200, "OK", {"content-type": "text/plain"}, b"x")),
            ("GET", "/api/runs/5", R(404, "Not Found", {"content-type": "application/json"},
                                     b'{"detail": "no"}')),
            ("PUT", "/api/runs/5", R(200, "OK", {"content-type": "application/json"}, b"{}")),
            ("DELETE", "/api/runs/5", R(204, "No Content", {}, b"{}")),
        ]
        for method, path, r in bad:
            with self.assertRaises(AssertionError, msg=(method, path, r)):
                oaschema.check(method, path, r)


def load_suites():
    sys.path.insert(0, HERE)
    import test_chat_routes
    import test_compat
    import test_routes
    loader = unittest.TestLoader()
    return unittest.TestSuite([loader.loadTestsFromModule(test_routes),
                               loader.loadTestsFromModule(test_compat),
                               loader.loadTestsFromModule(test_chat_routes)])


class Responses(lsapi.TestCase):
    """Every answer of the routes' suites matches openapi.json; every operation was seen."""

    def test_suites_and_coverage(self):
        with oaschema.Server() as srv:  # the one route the suites do not ask
            self.assertStatus(srv.get("/"), 200)
        res = unittest.TextTestRunner(verbosity=1, stream=sys.stderr).run(load_suites())
        self.assertTrue(res.wasSuccessful(),
                        "the routes' suites failed under the openapi.json check: %s" %
                        [str(t) for t, _ in res.failures + res.errors])
        seen_ok = {(m, p) for m, p, s in oaschema.SEEN if 200 <= s < 300}
        missing = sorted(documented() - seen_ok)
        self.assertEqual(missing, [], "documented operations no test saw succeed")


if __name__ == "__main__":
    lsapi.main()
