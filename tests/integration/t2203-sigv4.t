#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
test_description='SigV4 signatures are those botocore makes, for random requests'
. "$KILN_SRCDIR/tests/integration/lib/kiln-test.sh"

cat >compare.py <<\EOT
import json, random, string, subprocess, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

rng = random.Random(int(sys.argv[2]))
def word(alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))
chars = string.ascii_letters + string.digits + "-_.~ /+=&%!*'()$,;:@"
cases = []
for i in range(int(sys.argv[1])):
    host = rng.choice(["ec2.us-east-1.amazonaws.com", "127.0.0.1:8080",
                       "ec2.eu-west-1.amazonaws.com"])
    method = rng.choice(["GET", "POST"])
    params = [(word(string.ascii_letters, 1, 8), word(chars, 0, 12))
              for _ in range(rng.randint(0, 5))]
    from urllib.parse import quote
    query = "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
                     for k, v in params)
    body = word(chars, 0, 200) if method == "POST" else ""
    date = "2026%02d%02dT%02d%02d%02dZ" % (rng.randint(1, 12), rng.randint(1, 28),
                                          rng.randint(0, 23), rng.randint(0, 59),
                                          rng.randint(0, 59))
    headers = {"Host": host, "X-Amz-Date": date}
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    for _ in range(rng.randint(0, 3)):
        headers["X-Kiln-" + word(string.ascii_letters, 1, 6)] = \
            "  " + word(string.ascii_letters + "  ", 1, 10) + " "
    region = rng.choice(["us-east-1", "eu-west-1", "ap-south-1"])
    service = rng.choice(["ec2", "batch", "service"])
    key = "AKID" + word(string.ascii_uppercase, 8, 16)
    secret = word(string.ascii_letters + string.digits + "/+", 20, 40)
    cases.append(dict(method=method, path="/", query=query, body=body,
                      headers=["%s: %s" % kv for kv in headers.items()],
                      region=region, service=service, date=date, key=key,
                      secret=secret, hmap=headers, host=host))
out = subprocess.run([sys.argv[3]], input="".join(json.dumps(
    {k: v for k, v in c.items() if k not in ("hmap", "host")}) + "\n"
    for c in cases), capture_output=True, text=True, check=True).stdout
bad = 0
for c, line in zip(cases, out.splitlines()):
    mine = json.loads(line)
    url = "http://%s/%s" % (c["host"], "?" + c["query"] if c["query"] else "")
    req = AWSRequest(method=c["method"], url=url, data=c["body"],
                     headers=c["hmap"])
    req.context["timestamp"] = c["date"]
    auth = SigV4Auth(Credentials(c["key"], c["secret"]), c["service"],
                     c["region"])
    canonical = auth.canonical_request(req)
    sig = auth.signature(auth.string_to_sign(req, canonical), req)
    # botocore's scope() starts with the access key
    want = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" % (
        auth.scope(req), auth.signed_headers(auth.headers_to_sign(req)), sig)
    if mine["canonical"] != canonical or mine["authorization"] != want:
        bad += 1
        if bad <= 3:
            print("differs:\n--- botocore\n%s\n%s\n--- kiln\n%s\n%s\n" % (
                canonical, want, mine["canonical"], mine["authorization"]))
print("%d of %d differ" % (bad, len(cases)))
sys.exit(1 if bad else 0)
EOT

test_expect_success 'botocore is there (python3-botocore)' '
	/usr/bin/python3 -c "import botocore"
'

test_expect_success '500 random requests: the same canonical request and signature' '
	/usr/bin/python3 compare.py 500 "$(date +%s)" \
		"$KILN_BUILDDIR/tests/tools/sigv4sign" >out &&
	cat out &&
	grep "^0 of 500 differ" out
'

test_done
