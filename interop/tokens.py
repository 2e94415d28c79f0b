"""Tokens from PyJWT and jwcrypto for the interop suite.

Run by the Go driver (interop/main.go) with Debian's /usr/bin/python3, which
sees the python3-jwt and python3-jwcrypto packages:

    /usr/bin/python3 interop/tokens.py --keys DIR --issuer ISS --audience AUD --jwks OUT

DIR holds one private key per algorithm, made with openssl, named
<ALG>.pem (RS256.pem … ES512.pem, EdDSA.pem, Ed25519.pem). The script writes
the public JWK set, built with jwcrypto (kid: the RFC 7638 thumbprint, alg
and use set on every key), to OUT, and prints one JSON object on standard
output: {"pyjwt": {...}, "jwcrypto": {...}, "special": {...}}, each a map
from a name to a compact token.

Every token is an RFC 9068 access token (typ "at+jwt") with Verdocs claims,
valid for ten minutes, unless its name says otherwise (see special below).
"""

import argparse
import json
import os
import sys
import time
import uuid

import jwt
from jwt.algorithms import OKPAlgorithm
from jwcrypto import jwk
from jwcrypto import jwt as jcjwt

ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]

# jwcrypto 1.1 knows the Ed25519 key but not the RFC 9864 algorithm name
# "Ed25519"; PyJWT 2.6 neither, but its public register_algorithm API maps
# the name to its own Ed25519 implementation (the one behind "EdDSA").
JWCRYPTO_ALGS = [a for a in ALGS if a != "Ed25519"]
jwt.register_algorithm("Ed25519", OKPAlgorithm())

NS = "https://verdocs.com/"


def verdocs_claims(role):
    """The custom claims, namespaced, roles and permissions as {id, name}
    objects (the other form the verifier reads; oidc-provider sends strings)."""
    owner = role == "owner"
    perms = ["template:member:read", "org:view"] if owner else ["org:view"]
    return {
        NS + "email": role + "@pyjwt.interop.test",
        NS + "email_verified": True,
        NS + "roles": [{"id": role, "name": role.capitalize()}],
        NS + "permissions": [{"id": p, "name": p} for p in perms],
        NS + "profile_id": "profile-py-" + role,
        NS + "organization_id": "org-py",
        NS + "plans": ["org:standard"] if owner else [],
        NS + "profile": {
            "id": "profile-py-" + role,
            "user_id": "user-py-" + role,
            "organization_id": "org-py",
            "first_name": "Py",
            "last_name": role.capitalize(),
            "email": role + "@pyjwt.interop.test",
            "phone": None,
            "current": True,
            "organization": {"id": "org-py", "name": "PyJWT Org", "is_business": True},
        },
    }


def claims(issuer, audience, role="owner", **override):
    now = int(time.time())
    c = {
        "iss": issuer,
        "sub": "user-py-" + role,
        "aud": audience,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "client_id": "pyjwt",
        "scope": "api:read",
    }
    c.update(verdocs_claims(role))
    c.update(override)
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--jwks", required=True)
    args = ap.parse_args()

    pems, keys = {}, {}
    public = jwk.JWKSet()
    for alg in ALGS:
        with open(os.path.join(args.keys, alg + ".pem"), "rb") as f:
            pems[alg] = f.read()
        k = jwk.JWK.from_pem(pems[alg])
        pub = k.export_public(as_dict=True)
        pub.update(alg=alg, use="sig", kid=k.thumbprint())
        public.add(jwk.JWK(**pub))
        keys[alg] = (k, pub["kid"])
    with open(args.jwks, "w") as f:
        f.write(public.export(private_keys=False))

    iss, aud = args.issuer, args.audience

    def pyjwt(alg, payload, typ="at+jwt", **headers):
        h = {"kid": keys[alg][1], "typ": typ}
        h.update(headers)
        return jwt.encode(payload, pems[alg], algorithm=alg, headers=h)

    def jwcrypto_token(alg, payload):
        k, kid = keys[alg]
        t = jcjwt.JWT(header={"alg": alg, "kid": kid, "typ": "at+jwt"}, claims=payload)
        t.make_signed_token(k)
        return t.serialize()

    now = int(time.time())
    out = {
        "pyjwt": {alg: pyjwt(alg, claims(iss, aud)) for alg in ALGS},
        "jwcrypto": {alg: jwcrypto_token(alg, claims(iss, aud)) for alg in JWCRYPTO_ALGS},
        "special": {
            "member": pyjwt("ES256", claims(iss, aud, role="member")),
            # aud as an array that holds ours among others
            "aud-array": pyjwt("RS256", claims(iss, [aud + "/other", aud])),
            "other-audience": pyjwt("ES256", claims(iss, "https://other.interop.test")),
            # expired two minutes ago, well past any leeway
            "expired": pyjwt("ES256", claims(iss, aud, iat=now - 720, exp=now - 120)),
            # not valid before two minutes from now
            "not-yet-valid": pyjwt("ES256", claims(iss, aud, nbf=now + 120)),
            "wrong-issuer": pyjwt("ES256", claims("https://evil.interop.test", aud)),
            # PyJWT's own default header: typ "JWT"
            "typ-jwt": jwt.encode(claims(iss, aud), pems["ES256"], algorithm="ES256",
                                  headers={"kid": keys["ES256"][1]}),
            # typ None makes PyJWT leave typ out
            "typ-absent": pyjwt("ES256", claims(iss, aud), typ=None),
        },
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
